#!/usr/bin/env bash
# Sets everything up (idempotent; the first run compiles mmcv, ~11 min on 2 cores), then runs the whole test suite
# on PYTEST_WORKERS (default 2) pytest-xdist workers, a test file per worker at a time (the end-to-end files share
# module fixtures; PYTEST_WORKERS=0 runs everything in this process), in the order of collection
# (--no-loadscope-reorder: xdist would otherwise start with the files that hold the most tests, and the longest
# runs, the demos, which tests/conftest.py collects first, would start last). Extra arguments go to pytest, e.g.
# `bash scripts/test.sh -m "not slow"` for the unit tests alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
