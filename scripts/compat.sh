#!/usr/bin/env bash
# Runs test/compat with the pinned clients from PyPI, in the venv scripts/venv.sh keeps (cached
# under ~/.cache/cairn, safe for concurrent runs).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(bash scripts/venv.sh)"
# Always rebuild: the suite must test the sources as they are, not an old dist/.
[ -n "${COMPAT_SKIP_BUILD:-}" ] || npm run build --silent
# --durations: the slowest tests are named at the end, which is where CI time is won or lost.
exec "$venv/bin/python" -m pytest test/compat -q -p no:cacheprovider --durations=25 "$@"
