#!/usr/bin/env bash
# Fuzzes every operation in Cairn's /openapi.json with schemathesis (PyPI) against a running Cairn,
# and fails on any response >= 500 (each one is a bug). The venv is cached under ~/.cache/cairn,
# keyed by the pinned version, as scripts/compat.sh does for the clients.
#
#   bash scripts/fuzz.sh            # the bounded run `npm test` does (FUZZ_EXAMPLES=25 per operation)
#   FUZZ_EXAMPLES=100 FUZZ_PHASES=examples,coverage,fuzzing bash scripts/fuzz.sh   # the full run (docs/security.md)
#
# Runs against TEST_DATABASE_URL when set, else an embedded database in a temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS=schemathesis==4.32.5
cache="${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}"
venv="$cache/fuzz-$(echo "$SCHEMATHESIS" | sha256sum | cut -c1-12)"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$SCHEMATHESIS"
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
node bin/cairn.js server --host 127.0.0.1 --port "$port" --backend-store-uri "$backend" --data-dir "$work" \
  --artifacts-destination "$work/artifacts" --workers 1 >"$work/cairn.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/cairn.log" >&2; exit 1; }
  sleep 0.5
done

report="${FUZZ_REPORT:-$work/fuzz.ndjson}"
status=0
# not_a_server_error is the property under test; the schema-conformance checks would also flag the
# deliberate MLflow behaviours (lenient bodies, errors with status codes the schema leaves as default).
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error \
  --phases "${FUZZ_PHASES:-examples,coverage,fuzzing}" \
  --max-examples "${FUZZ_EXAMPLES:-25}" \
  --seed "${FUZZ_SEED:-20261130}" \
  --workers "${FUZZ_WORKERS:-2}" \
  --request-timeout 30 \
  --suppress-health-check all \
  --no-shrink \
  -H "Authorization: Bearer $key" \
  --report ndjson --report-ndjson-path "$report" \
  --warnings off || status=$?

# The figures: every request schemathesis sent, and those answered >= 500.
python3 - "$report" <<'EOF' || status=1
import json, sys
total = errors = 0
for line in open(sys.argv[1]):
    for status in __import__('re').findall(r'"status_code":\s*(\d+)', line):
        total += 1
        errors += int(status) >= 500
print(f"fuzz: {total} requests, {errors} answered >= 500")
sys.exit(1 if errors or total == 0 else 0)
EOF
if [ "$status" != 0 ]; then
  echo "--- tail of the server log ---" >&2
  tail -n 40 "$work/cairn.log" >&2
fi
exit "$status"
