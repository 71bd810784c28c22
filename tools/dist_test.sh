#!/usr/bin/env bash
# Distributed testing with torchrun (mmpose's tools/dist_test.sh, same arguments and variables).
#
#   tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args ...]
#
# NUM_PROCS processes on this node: one per GPU with NCCL, or, without GPUs, NUM_PROCS CPU processes on gloo.
# Each process evaluates its share of the test set; the metric is computed once over all predictions, so it
# equals a 1-process run's (tests/tools/test_distributed.py). Several nodes: as tools/dist_train.sh.
#
# Variables (torchrun flag, default): NNODES (--nnodes, 1), NODE_RANK (--node_rank, 0),
# MASTER_ADDR (--master_addr, 127.0.0.1), PORT (--master_port, 29500); PYTHON, the interpreter (python3).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NUM_PROCS [test.py args ...]  (env: NNODES NODE_RANK MASTER_ADDR PORT PYTHON)" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$ROOT"/tools/test.py "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
