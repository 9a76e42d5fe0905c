#!/usr/bin/env bash
# Fuzzes every operation in Cairn's /openapi.json with schemathesis (PyPI) against a running Cairn,
# and fails on any response >= 500 (each one is a bug). The venv is cached under ~/.cache/cairn,
# keyed by the pinned version, as scripts/compat.sh does for the clients.
#
#   FUZZ_MAX_TIME=120 bash scripts/fuzz.sh   # the bounded run `npm test` does (20 examples per operation per round)
#   FUZZ_EXAMPLES=200 FUZZ_MAX_TIME=1200 FUZZ_WORKERS=4 bash scripts/fuzz.sh   # the full run (docs/security.md):
#                                     # fuzzing repeats until the time budget is spent
#
# Runs against TEST_DATABASE_URL when set, else an embedded database in a temp folder; artifacts in
# a local folder (moto, the tests' S3 server, answers some invalid multipart calls with its own 500).
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS=schemathesis==4.32.5
cache="${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}"
venv="$cache/fuzz-$(echo "$SCHEMATHESIS" | sha256sum | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  bash scripts/pip-install.sh "$venv" "$SCHEMATHESIS"
  touch "$venv/.complete"
fi
[ "${FUZZ_SKIP_BUILD:-}" = 1 ] || npm run build --silent

work="$(mktemp -d -t cairn-fuzz-XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
backend="${TEST_DATABASE_URL:-pglite://$work/db}"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A W&B key for the W&B operations: queued beside the embedded database, or stored in Postgres.
key="$(node bin/cairn.js keys create --user fuzz --backend-store-uri "$backend" --data-dir "$work")"
# Multipart upload and presigned download answer 501 on the local folder by design (the mlflow
# client falls back on it); they are fuzzed out, and tested on S3 by test/integration. So is a model
# version's file download, whose `presigned=true` answers that 501 for an existing version (as the
# real server does for a store that cannot sign; a query value cannot be excluded alone): the fuzzer
# reached it once in a CI run of 2026-12-03. Starting a registered scorer on incoming traces
# (online-config) answers 501 too: Cairn runs no scorers (test/integration/genai.test.ts).
exclude=(--exclude-path-regex '/mlflow-artifacts/(mpu|presigned)/|/model-versions/get-artifact$|/scorers/online-config$')
artifacts="$work/artifacts"
node bin/cairn.js server --host 127.0.0.1 --port "$port" --backend-store-uri "$backend" --data-dir "$work" \
  --artifacts-destination "$artifacts" --workers 1 >"$work/cairn.log" 2>&1 &
server_pid=$!
health() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$port/health" 2>/dev/null; }
for _ in $(seq 1 240); do
  health && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/cairn.log" >&2; exit 1; }
  sleep 0.5
done

report="${FUZZ_REPORT:-$work/fuzz.ndjson}"
# Two worker threads, except on a CPython whose ast module is not thread-safe (before 3.11.8 and
# 3.12.1, CPython gh-106905): there hypothesis, parsing source in both threads, can end a case in
# "SystemError: AST constructor recursion depth mismatch" before any request is sent (CI, 2026-12-02).
default_workers="$(python3 -c 'import sys; v = sys.version_info[:3]; print(2 if v >= (3, 12, 1) or (3, 11, 8) <= v < (3, 12) else 1)')"
status=0
# Run from the temp folder: schemathesis leaves its .hypothesis and .schemathesis caches behind.
cd "$work"
# not_a_server_error is the property under test; the schema-conformance checks would also flag the
# deliberate MLflow behaviours (lenient bodies, errors with status codes the schema leaves as default).
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error \
  --phases "${FUZZ_PHASES:-examples,coverage,fuzzing}" \
  --max-examples "${FUZZ_EXAMPLES:-20}" \
  --seed "${FUZZ_SEED:-20261130}" \
  ${FUZZ_MAX_TIME:+--max-time "$FUZZ_MAX_TIME"} \
  --workers "${FUZZ_WORKERS:-$default_workers}" \
  --request-timeout 30 \
  --suppress-health-check all \
  --no-shrink \
  -H "Authorization: Bearer $key" \
  --report ndjson --report-ndjson-path "$report" \
  --warnings off "${exclude[@]}" || status=$?

# The figures: every request schemathesis sent, and those answered >= 500.
python3 - "$report" <<'EOF' || status=1
import json, sys
# One interaction per generated request, keyed by its test case id (a failing case is reported twice).
statuses = {}
for line in open(sys.argv[1]):
    event = json.loads(line).get("ScenarioFinished")
    for case_id, interaction in ((event or {}).get("recorder", {}).get("interactions") or {}).items():
        if interaction.get("response"):
            statuses[case_id] = interaction["response"]["status_code"]
errors = sum(1 for s in statuses.values() if s >= 500)
print(f"fuzz: {len(statuses)} requests, {errors} answered >= 500")
sys.exit(1 if errors or not statuses else 0)
EOF
if [ "$status" != 0 ]; then
  echo "--- tail of the server log ---" >&2
  tail -n 40 "$work/cairn.log" >&2
fi
cd /
exit "$status"
