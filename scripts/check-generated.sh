#!/usr/bin/env bash
# Fails when `npm run generate` would change gen/ or clients/grpc-js/ — the
# committed code (server and callers' clients) must match proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
buf generate
buf generate --template buf.gen.grpc-js.yaml
changes=$(git status --porcelain -- gen clients/grpc-js)
if [ -n "$changes" ]; then
  echo "gen/ or clients/grpc-js/ is out of date with proto/ — run 'npm run generate' and commit the result:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- gen clients/grpc-js >&2
  exit 1
fi
echo "gen/ and clients/grpc-js/ match proto/"
