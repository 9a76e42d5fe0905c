#!/usr/bin/env bash
# The whole suite, from a fresh clone: Node deps, build, vitest on the embedded PGlite and, when
# TEST_DATABASE_URL is set, again on that Postgres server; then the real Python clients against a
# running Cairn (on TEST_DATABASE_URL when set, else PGlite), the web UI in Debian's chromium
# (Playwright), a bounded fuzz run over the OpenAPI document (scripts/fuzz.sh), and the benchmark at --quick sizes
# (bench/main.ts, then the start-up times of bench/startup.mjs).
#
# Parts that need something from the machine (a Postgres server, an S3 server, the Postgres server
# binaries) are left out when it is missing, and the last line says which, loudly. In CI (CI=true,
# as .ci/run sets it) a part left out is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

not_run=()
summary() {
  local rc=$?
  if [ "${#not_run[@]}" -gt 0 ]; then
    echo >&2
    echo "!!!! NOT RUN (${#not_run[@]}): $(IFS=';'; echo "${not_run[*]}" | sed 's/;/; /g')" >&2
    if [ "${CI:-}" = true ]; then
      echo "!!!! CI=true: every part must run; failing." >&2
      [ "$rc" -ne 0 ] || rc=1
    fi
  else
    [ "$rc" -ne 0 ] || echo "==> every part of the suite ran" >&2
  fi
  exit "$rc"
}
trap summary EXIT

[ -n "${TEST_DATABASE_URL:-}" ] || not_run+=("vitest and compat on Postgres (TEST_DATABASE_URL unset: PGlite only)")
[ -n "${CAIRN_TEST_S3_ENDPOINT:-}" ] || not_run+=("vitest S3 variants of the artifact suites (CAIRN_TEST_S3_ENDPOINT unset: eval \"\$(bash scripts/s3-server.sh start)\")")

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
# The first pass also runs test/faults, once: they start their own Postgres cluster and S3 server.
echo "==> vitest on PGlite (and test/faults)" >&2
env -u TEST_DATABASE_URL npx vitest run "$@"
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "==> vitest on Postgres" >&2
  npx vitest run test/integration test/security "$@"
fi
echo "==> compat: the real clients" >&2
bash scripts/compat.sh
# After compat: the UI's deep-link tests run the same pinned clients, from the venv compat.sh builds.
if [ -x "${CAIRN_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "==> playwright: the web UI in chromium" >&2
  npx playwright test
else
  not_run+=("playwright UI tests (no chromium: apt-get install chromium)")
fi
# Every OpenAPI operation fuzzed by schemathesis for a fixed time (120 s); any response >= 500 fails.
echo "==> fuzz: schemathesis over /openapi.json" >&2
FUZZ_SKIP_BUILD=1 FUZZ_MAX_TIME="${FUZZ_MAX_TIME:-120}" bash scripts/fuzz.sh
# The benchmark end to end at small sizes (no timing assertions): it starts its own Postgres cluster,
# so it runs where the server binaries are installed (CI installs them through .ci/run).
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; then
  echo "==> bench --quick" >&2
  npm run bench --silent -- --quick --out bench/results/quick-ci.json
else
  not_run+=("bench --quick (no Postgres server binaries: apt-get install postgresql)")
fi
# Start-up times, one sample each (informational: --quick never fails on a missed target); on
# TEST_DATABASE_URL too when it is set.
echo "==> bench startup --quick" >&2
node bench/startup.mjs --quick

