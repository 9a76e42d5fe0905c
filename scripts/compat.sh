#!/usr/bin/env bash
# Runs test/compat with the pinned clients from PyPI in a venv cached under ~/.cache/cairn,
# keyed by the requirement files so a pin change gets a fresh venv.
set -euo pipefail
cd "$(dirname "$0")/.."
req=test/compat/requirements.txt
pins=test/compat/client-pins.txt
cache="${CAIRN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn}"
venv="$cache/venv-$(cat "$req" "$pins" | sha256sum | cut -c1-12)"
# Built in place (console scripts such as bin/wandb record the venv's path), and marked complete
# only at the end, so an interrupted install is redone rather than reused.
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$pins"
  touch "$venv/.complete"
fi
# Always rebuild: the suite must test the sources as they are, not an old dist/.
npm run build --silent
exec "$venv/bin/python" -m pytest test/compat -q -p no:cacheprovider "$@"
