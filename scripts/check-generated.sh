#!/usr/bin/env bash
# Fails when `buf generate` would change gen/ — the committed code must match proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
buf generate
changes=$(git status --porcelain -- gen)
if [ -n "$changes" ]; then
  echo "gen/ is out of date with proto/ — run 'npm run generate' and commit the result:" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- gen >&2
  exit 1
fi
echo "gen/ matches proto/"
