#!/usr/bin/env bash
# The whole suite, from a fresh clone: Node deps, build, vitest (PGlite, and Postgres when
# TEST_DATABASE_URL is set), then the real Python clients against a running Cairn.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
npx vitest run "$@"
bash scripts/compat.sh
