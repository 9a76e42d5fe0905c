#!/usr/bin/env bash
# `pip install ARGS...` into the venv VENV, done by uv (from PyPI, pinned, put into the venv itself
# first): it fetches, unpacks and compiles in parallel, so the compat venv's hundred-odd packages
# take it about half a minute where pip took over three, on the critical path of a fresh machine's
# `npm test`. Output goes to stderr.
#
# --compile-bytecode, as pip does by default: without it every Python process that imports mlflow
# compiles it again wherever PYTHONDONTWRITEBYTECODE is set (it is on the machines we test on),
# which made the compat suite a quarter slower.
#
#   bash scripts/pip-install.sh VENV -r requirements.txt
set -euo pipefail
UV_PIN='uv==0.13.9'
venv=$1
shift
[ -x "$venv/bin/uv" ] || "$venv/bin/pip" install --quiet --disable-pip-version-check "$UV_PIN" >&2
# UV_LINK_MODE=copy: uv's cache and the venv may sit on different filesystems (a hard link would
# fail there, and uv would warn before copying anyway).
UV_LINK_MODE=copy exec "$venv/bin/uv" pip install --quiet --compile-bytecode --python "$venv/bin/python" "$@" >&2
