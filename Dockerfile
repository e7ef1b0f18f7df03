# syntax=docker/dockerfile:1
# Build: docker build -t whatsapp-service .
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci applies patches/ (postinstall: patch-package); the driver fix for connection loss lives there.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json buf.yaml buf.gen.yaml ./
COPY proto ./proto
COPY third_party ./third_party
COPY gen ./gen
COPY src ./src
# --ignore-scripts: the patched files stay; postinstall must not run again without patch-package.
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=8000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
USER node
EXPOSE 8000
# SIGTERM reaches node directly (exec form), which drains and exits 0.
CMD ["node", "dist/src/main.js"]
