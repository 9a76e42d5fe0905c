#!/usr/bin/env bash
# Prints the path of the venv with the pinned clients (and mlflow server, for the bench), building
# it first when needed. Cached under ~/.cache/cairn (CAIRN_CACHE overrides), keyed by the
# requirement files so a pin change gets a fresh venv. Used by scripts/compat.sh and bench/venv.ts.
#
# Built in place (console scripts such as bin/wandb record the venv's path), and marked complete
# only at the end, so an interrupted install is redone rather than reused. Runs at once (two
# `npm test`s, a test run and a bench) take turns on a lock beside the venv: only its holder may
# delete or build it, and the others find it complete once the lock is released. A complete venv is
# never deleted. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
req=test/compat/requirements.txt
pins=test/compat/client-pins.txt
cache="${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}"
# The installer is part of the key: a new uv pin builds a new venv.
venv="$cache/venv-$(cat "$req" "$pins" scripts/pip-install.sh | sha256sum | cut -c1-12)"
mkdir -p "$cache"
if [ ! -f "$venv/.complete" ]; then
  exec 9>"$venv.lock"
  flock 9
  if [ ! -f "$venv/.complete" ]; then
    echo "venv: installing the pinned clients into $venv (a minute or so the first time)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    bash scripts/pip-install.sh "$venv" -r "$req"
    bash scripts/pip-install.sh "$venv" --no-deps -r "$pins"
    touch "$venv/.complete"
  fi
  flock -u 9
  exec 9>&-
fi
echo "$venv"
