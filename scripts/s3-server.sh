#!/usr/bin/env bash
# A throwaway S3-compatible server on loopback for the artifact tests: moto's server (what MLflow's
# own tests use), from PyPI, in a venv cached under ~/.cache/cairn.
#
#   eval "$(bash scripts/s3-server.sh start)"   # starts it, creates the bucket, prints the exports
#   bash scripts/s3-server.sh stop              # stops the server started by `start`
#
# `start` prints, for eval:
#   CAIRN_TEST_S3_ENDPOINT  http://127.0.0.1:<port>   (vitest and test/compat run their S3 variants on it)
#   CAIRN_TEST_S3_BUCKET    the bucket it created
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION   (moto accepts any credentials)
#   CAIRN_S3_SERVER_PID     the server's process id
# Progress goes to stderr; the server's log to $CAIRN_S3_DIR/moto.log. CAIRN_S3_DIR keeps one server's
# state apart from another's; CAIRN_S3_PORT starts it on a given port (the fault tests restart it there).
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_PIN='moto[server]==5.2.5'
cache="${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}"
state="${CAIRN_S3_DIR:-${TMPDIR:-/tmp}/cairn-s3-server}"
bucket="${CAIRN_TEST_S3_BUCKET:-cairn-test}"

log() { echo "s3-server: $*" >&2; }

moto_venv() {
  local venv
  venv="$cache/moto-$(printf '%s' "$MOTO_PIN" | sha256sum | cut -c1-12)"
  if [ ! -x "$venv/bin/moto_server" ]; then
    mkdir -p "$cache"
    # One builder at a time (a lock beside the venv): a second run waits, then finds it built.
    # The venv is built under a temporary name and renamed into place whole, so no run ever sees
    # (or deletes) a half-installed one; moto_server is started through the venv's python, so the
    # path its scripts record does not matter.
    exec 8>"$venv.lock"
    flock 8
    if [ ! -x "$venv/bin/moto_server" ]; then
      log "installing $MOTO_PIN into $venv"
      rm -rf "$venv.tmp.$$"
      python3 -m venv "$venv.tmp.$$" >&2
      bash scripts/pip-install.sh "$venv.tmp.$$" "$MOTO_PIN" boto3
      rm -rf "$venv" && mv "$venv.tmp.$$" "$venv"
    fi
    flock -u 8
    exec 8>&-
  fi
  echo "$venv"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local venv port pid endpoint
  venv=$(moto_venv)
  mkdir -p "$state"
  if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
    log "already running (pid $(cat "$state/pid")); stopping it first"
    stop
  fi
  port="${CAIRN_S3_PORT:-$(free_port)}"
  endpoint="http://127.0.0.1:$port"
  # The venv was built under a temporary name, so run its scripts through its interpreter.
  # setsid: the server outlives this script (it is stopped with `stop`), in its own process group.
  setsid "$venv/bin/python" "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$state/moto.log" 2>&1 < /dev/null &
  pid=$!
  echo "$pid" >"$state/pid"
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "moto exited during start-up:"; tail -n 30 "$state/moto.log" >&2; exit 1
    fi
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('$endpoint/moto-api/', timeout=1)" 2>/dev/null; then break; fi
    sleep 0.2
  done
  AWS_ACCESS_KEY_ID=cairn-test AWS_SECRET_ACCESS_KEY=cairn-test-secret AWS_DEFAULT_REGION=us-east-1 \
    "$venv/bin/python" - "$endpoint" "$bucket" <<'PY' >&2
import sys, boto3
endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint)
s3.create_bucket(Bucket=bucket)
print(f"s3-server: bucket {bucket} ready at {endpoint}")
PY
  cat <<EOF
export CAIRN_TEST_S3_ENDPOINT=$endpoint
export CAIRN_TEST_S3_BUCKET=$bucket
export AWS_ACCESS_KEY_ID=cairn-test
export AWS_SECRET_ACCESS_KEY=cairn-test-secret
export AWS_DEFAULT_REGION=us-east-1
export CAIRN_S3_SERVER_PID=$pid
EOF
}

stop() {
  [ -f "$state/pid" ] || return 0
  local pid
  pid=$(cat "$state/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
