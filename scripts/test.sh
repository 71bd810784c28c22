#!/usr/bin/env bash
# Sets everything up (idempotent; the first run compiles mmcv, ~11 min on 2 cores), then runs the whole test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"` for the unit tests alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m pytest "$@"
