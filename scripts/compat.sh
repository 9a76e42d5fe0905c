#!/usr/bin/env bash
# Runs test/compat with the pinned clients from PyPI, in the venv scripts/venv.sh keeps (cached
# under ~/.cache/cairn, safe for concurrent runs).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(bash scripts/venv.sh)"
# Always rebuild: the suite must test the sources as they are, not an old dist/.
[ -n "${COMPAT_SKIP_BUILD:-}" ] || npm run build --silent
# --durations: the slowest tests are named at the end, which is where CI time is won or lost.
# Two pytest-xdist workers, a test file each at a time (--dist loadfile: a file's module fixtures
# and servers stay in one process), the longest files first (conftest.py orders them; xdist's own
# reorder is off): the suite spends about half its time waiting on servers and client processes,
# so two files at once nearly halve it on two cores. Each worker has its own Cairn and, on
# Postgres, its own database (conftest.py). COMPAT_WORKERS=0 runs it in one process.
workers="${COMPAT_WORKERS:-2}"
parallel=()
[ "$workers" = 0 ] || parallel=(-n "$workers" --dist loadfile --no-loadscope-reorder)
exec "$venv/bin/python" -m pytest test/compat -q -p no:cacheprovider --durations=25 "${parallel[@]}" "$@"
