#!/usr/bin/env bash
# The whole suite, from a fresh clone: Node deps, build, vitest on the embedded PGlite and, when
# TEST_DATABASE_URL is set, again on that Postgres server; then the real Python clients against a
# running Cairn (on TEST_DATABASE_URL when set, else PGlite), the web UI in Debian's chromium
# (Playwright), a bounded fuzz run over the OpenAPI document (scripts/fuzz.sh), and the benchmark at --quick sizes
# (bench/main.ts, then the start-up times of bench/startup.mjs).
#
# Two lanes run side by side, because most of the time goes to waiting on servers and browsers:
#   lane A: vitest (PGlite, then Postgres), fuzz, bench --quick, bench startup --quick, the MLflow-UI
#           browser spec, then the second half of the other browser specs (Playwright's --shard=2/2)
#   lane B: compat (the real clients, in two pytest-xdist workers), then the first half of the other
#           browser specs (--shard=1/2, the longer one: it holds the 100,000-run table)
# The browser specs use compat's venv; whichever lane needs it first builds it (scripts/venv.sh).
# Lane B streams to the terminal; lane A writes to a log that is printed when it ends. Every part
# runs even after another failed, and the last lines list what failed. Lane B gets a database of its
# own on the TEST_DATABASE_URL server, so the two lanes never see each other's rows.
# CAIRN_TEST_SERIAL=1 runs the lanes one after the other (for a slow machine or to read one log).
#
# Parts that need something from the machine (a Postgres server, an S3 server, the Postgres server
# binaries) are left out when it is missing, and the last line says which, loudly. In CI (CI=true,
# as .ci/run sets it) a part left out is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

not_run=()
[ -n "${TEST_DATABASE_URL:-}" ] || not_run+=("vitest and compat on Postgres (TEST_DATABASE_URL unset: PGlite only)")
[ -n "${CAIRN_TEST_S3_ENDPOINT:-}" ] || not_run+=("vitest S3 variants of the artifact suites (CAIRN_TEST_S3_ENDPOINT unset: eval \"\$(bash scripts/s3-server.sh start)\")")
has_chromium=0
if [ -x "${CAIRN_CHROMIUM:-/usr/bin/chromium}" ]; then has_chromium=1; else not_run+=("playwright UI tests (no chromium: apt-get install chromium)"); fi
has_pg_bin=0
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; then has_pg_bin=1; else not_run+=("bench --quick (no Postgres server binaries: apt-get install postgresql)"); fi

logdir="$(mktemp -d "${TMPDIR:-/tmp}/cairn-test.XXXXXX")"
lane_a_pid=''
summary() {
  local rc=$?
  [ -z "$lane_a_pid" ] || kill -- "$lane_a_pid" 2>/dev/null || true
  local failed=()
  [ ! -s "$logdir/failed" ] || mapfile -t failed < "$logdir/failed"
  echo >&2
  echo "---- parts ----" >&2
  cat "$logdir/timings" >&2 2>/dev/null || true
  if [ "${#failed[@]}" -gt 0 ]; then
    # The failing tests by name, here at the end where a CI's tail shows them (pytest's FAILED lines,
    # Playwright's and vitest's failure headers), since each part's own report scrolled away long ago.
    echo "---- failing tests ----" >&2
    cat "$logdir"/lane-*.log 2>/dev/null \
      | sed 's/\x1b\[[0-9;]*m//g' \
      | grep -E '^(FAILED|ERROR) test/|^ +[0-9]+\) (\[chromium\] › )?test/|^_+ [A-Z]+ /[^ ]* _+$|^ (FAIL|×) ' \
      | sort -u | head -40 >&2 || true
    # And their first error lines (Playwright's `Error:`, pytest's `E `, vitest's AssertionError):
    # a CI that shows only the tail would otherwise name a failure without saying what it was.
    echo "---- first error lines ----" >&2
    cat "$logdir"/lane-*.log 2>/dev/null \
      | sed 's/\x1b\[[0-9;]*m//g' \
      | grep -E '^ +Error: |^E +[A-Za-z]|AssertionError' \
      | cut -c1-600 | awk '!seen[$0]++' | head -30 >&2 || true
    echo "!!!! FAILED (${#failed[@]}): $(IFS=';'; echo "${failed[*]}" | sed 's/;/; /g')" >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  if [ "${#not_run[@]}" -gt 0 ]; then
    echo "!!!! NOT RUN (${#not_run[@]}): $(IFS=';'; echo "${not_run[*]}" | sed 's/;/; /g')" >&2
    if [ "${CI:-}" = true ]; then
      echo "!!!! CI=true: every part must run; failing." >&2
      [ "$rc" -ne 0 ] || rc=1
    fi
  elif [ "$rc" -eq 0 ]; then
    echo "==> every part of the suite ran" >&2
  fi
  exit "$rc"
}
trap summary EXIT

# part NAME CMD...: runs one part, records its time and, if it fails, its name; never stops the lane.
# Each line also gives the part's CPU time (user + system of every process it waited for): the two
# lanes share the machine's cores, so wall time says little about what a part itself costs.
children_cpu() {
  # `times`' second line: the children's user and system time, e.g. "1m2.345s 0m6.789s". Run in
  # this shell (a pipe or $(...) would ask a subshell, which has no children of its own).
  local f="$logdir/times.$BASHPID"
  times > "$f"
  cpu=$(sed -n 2p "$f" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%d", t }')
}
part() {
  local name=$1 start=$SECONDS rc=0 cpu cpu0
  shift
  children_cpu
  cpu0=$cpu
  echo "==> $name" >&2
  "$@" || rc=$?
  children_cpu
  printf '%5ss  %5ss CPU  %s%s\n' "$((SECONDS - start))" "$((cpu - cpu0))" "$name" "$([ "$rc" -eq 0 ] || echo "  (FAILED, exit $rc)")" >> "$logdir/timings"
  echo "<== $name: $((SECONDS - start))s, exit $rc" >&2
  [ "$rc" -eq 0 ] || echo "$name" >> "$logdir/failed"
}

[ -d node_modules ] || npm ci --no-audit --no-fund
# Built once, before the lanes start: nothing may rebuild dist/ while the other lane runs from it.
npm run build --silent
npx tsc -p bench/tsconfig.json

lane_a() {
  # The first pass also runs test/faults, once: they start their own Postgres cluster and S3 server.
  part "vitest on PGlite (and test/faults)" env -u TEST_DATABASE_URL npx vitest run "$@"
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    part "vitest on Postgres" npx vitest run test/integration test/security "$@"
  fi
  # Every OpenAPI operation fuzzed by schemathesis for a fixed time (120 s); any response >= 500 fails.
  part "fuzz: schemathesis over /openapi.json" env FUZZ_SKIP_BUILD=1 FUZZ_MAX_TIME="${FUZZ_MAX_TIME:-120}" bash scripts/fuzz.sh
  # The benchmark end to end at small sizes (no timing assertions): it starts its own Postgres cluster.
  # Here `mlflow server` runs one uvicorn worker without its job runner (MLflow's defaults, in the
  # full bench, are 4 workers and the job runner with its 8 huey consumers: a dozen Python processes
  # importing mlflow at each of its two starts, which a run that proves the bench works has no use for).
  if [ "$has_pg_bin" = 1 ]; then
    part "bench --quick" env MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false \
      node dist/bench/main.js --quick --mlflow-arg="--workers 1" --out bench/results/quick-ci.json
  fi
  # Start-up times, one sample each (informational: --quick never fails on a missed target).
  part "bench startup --quick" node bench/startup.mjs --quick
  # MLflow's own UI page by page beside the real `mlflow server` (the longest browser spec), then
  # the shorter half of the other browser specs: lane B has the real clients, the longest part.
  if [ "$has_chromium" = 1 ]; then
    part "playwright: MLflow's UI on Cairn beside mlflow server" \
      bash -c 'bash scripts/venv.sh >/dev/null && CAIRN_UI_OUTPUT=test-results/ui-mlflow npx playwright test test/ui/mlflow-ui.spec.ts'
    part "playwright: the web UI in chromium (shard 2/2)" \
      env CAIRN_UI_IGNORE=mlflow-ui.spec.ts CAIRN_UI_OUTPUT=test-results/ui-2 npx playwright test --shard=2/2
  fi
}

lane_b() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    local url
    url="$(node scripts/fresh-database.mjs "$TEST_DATABASE_URL" lane_b)"
    export TEST_DATABASE_URL="$url"
  fi
  part "compat: the real clients" env COMPAT_SKIP_BUILD=1 bash scripts/compat.sh
  if [ "$has_chromium" = 1 ]; then
    part "playwright: the web UI in chromium (shard 1/2)" \
      env CAIRN_UI_IGNORE=mlflow-ui.spec.ts CAIRN_UI_OUTPUT=test-results/ui-1 npx playwright test --shard=1/2
  fi
}

if [ "${CAIRN_TEST_SERIAL:-}" = 1 ]; then
  lane_a "$@" 2>&1 | tee "$logdir/lane-a.log"
  lane_b 2>&1 | tee "$logdir/lane-b.log"
else
  echo "==> lane A (vitest, fuzz, bench, MLflow's UI, half the other browser specs) runs in the background; its log follows lane B's" >&2
  ( lane_a "$@" ) > "$logdir/lane-a.log" 2>&1 &
  lane_a_pid=$!
  # Lane B also goes to a log, so the summary can name its failing tests.
  lane_b 2>&1 | tee "$logdir/lane-b.log"
  wait "$lane_a_pid" || true
  lane_a_pid=''
  echo "==> lane A's log" >&2
  cat "$logdir/lane-a.log" >&2
fi
[ ! -s "$logdir/failed" ]
