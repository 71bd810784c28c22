#!/usr/bin/env bash
# Distributed testing with torchrun (mmpose's tools/dist_test.sh, same arguments and variables).
#
#   tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args ...]
#
# NUM_PROCS processes on this node: one per GPU with NCCL, or, without GPUs, NUM_PROCS CPU processes on gloo.
# Each process evaluates its share of the test set; the metric is computed once over all predictions, so it
# equals a 1-process run's (tests/tools/test_distributed.py). Several nodes: as tools/dist_train.sh.
#
# Variables NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON: tools/dist_run.sh, which starts the processes.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py args ...]  (env: NNODES NODE_RANK MASTER_ADDR PORT PYTHON)" >&2
    exit 2
fi
exec bash "$(dirname "$0")/dist_run.sh" "$3" test.py "$1" "$2" --launcher pytorch "${@:4}"
