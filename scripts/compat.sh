#!/usr/bin/env bash
# Runs test/compat with the pinned clients from PyPI, in the venv scripts/venv.sh keeps (cached
# under ~/.cache/cairn, safe for concurrent runs).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(bash scripts/venv.sh)"
# Always rebuild: the suite must test the sources as they are, not an old dist/.
[ -n "${COMPAT_SKIP_BUILD:-}" ] || npm run build --silent
exec "$venv/bin/python" -m pytest test/compat -q -p no:cacheprovider "$@"
