#!/usr/bin/env bash
# `pip install ARGS...` into the venv VENV, done by uv (from PyPI, pinned, put into the venv itself
# first): it fetches and unpacks wheels in parallel, so the compat venv's hundred-odd packages take
# it well under a minute where pip took over three, on the critical path of a fresh machine's
# `npm test`. Output goes to stderr.
#
#   bash scripts/pip-install.sh VENV -r requirements.txt
set -euo pipefail
UV_PIN='uv==0.13.9'
venv=$1
shift
[ -x "$venv/bin/uv" ] || "$venv/bin/pip" install --quiet --disable-pip-version-check "$UV_PIN" >&2
# UV_LINK_MODE=copy: uv's cache and the venv may sit on different filesystems (a hard link would
# fail there, and uv would warn before copying anyway).
UV_LINK_MODE=copy exec "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" "$@" >&2
