#!/usr/bin/env bash
# Fails when `npm run generate` would change gen/, clients/grpc-js/, the
# descriptor set or the OpenAPI and KrakenD documents — the committed files
# (server code, callers' clients, gateway documents) must match proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
generated=(gen clients/grpc-js openapi deploy/krakend)
buf generate
buf generate --template buf.gen.grpc-js.yaml
buf build -o deploy/krakend/whatsapp.binpb
tsx scripts/openapi/generate.ts
changes=$(git status --porcelain -- "${generated[@]}")
if [ -n "$changes" ]; then
  echo "generated files are out of date with proto/ — run 'npm run generate' and commit the result:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- "${generated[@]}" >&2
  exit 1
fi
echo "gen/, clients/grpc-js/, openapi/ and deploy/krakend/ match proto/"
