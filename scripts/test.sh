#!/usr/bin/env bash
# The whole suite, from a fresh clone: Node deps, build, vitest on the embedded PGlite and, when
# TEST_DATABASE_URL is set, again on that Postgres server; then the real Python clients against a
# running Cairn (on TEST_DATABASE_URL when set, else PGlite).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
echo "==> vitest on PGlite" >&2
env -u TEST_DATABASE_URL npx vitest run "$@"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "==> vitest on Postgres" >&2
  npx vitest run test/integration test/security "$@"
fi
echo "==> compat: the real clients" >&2
bash scripts/compat.sh
