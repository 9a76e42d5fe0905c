#!/usr/bin/env bash
# The whole suite, from a fresh clone: Node deps, build, vitest on the embedded PGlite and, when
# TEST_DATABASE_URL is set, again on that Postgres server; then the real Python clients against a
# running Cairn (on TEST_DATABASE_URL when set, else PGlite), a bounded fuzz run over the OpenAPI
# document (scripts/fuzz.sh), and the benchmark at --quick sizes.
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
# Every OpenAPI operation fuzzed by schemathesis for a fixed time (120 s); any response >= 500 fails.
echo "==> fuzz: schemathesis over /openapi.json" >&2
FUZZ_SKIP_BUILD=1 FUZZ_MAX_TIME="${FUZZ_MAX_TIME:-120}" bash scripts/fuzz.sh
# The benchmark end to end at small sizes (no timing assertions): it starts its own Postgres cluster,
# so it runs where the server binaries are installed (CI installs them through .ci/run).
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; then
  echo "==> bench --quick" >&2
  npm run bench --silent -- --quick --out bench/results/quick-ci.json
else
  echo "==> bench --quick skipped: no Postgres server binaries (apt-get install postgresql)" >&2
fi
