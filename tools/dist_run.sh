#!/usr/bin/env bash
# What tools/dist_train.sh and tools/dist_test.sh share: start a tool with torchrun on this node.
#
#   tools/dist_run.sh NUM_PROCS TOOL [tool args ...]
#
# NUM_PROCS processes on this node: one per GPU with NCCL, or, without GPUs, NUM_PROCS CPU processes on gloo
# (pose_plugins.compat.setup_cpu_distributed), each running tools/TOOL with the given arguments (the callers pass
# --launcher pytorch). Several nodes: run it on every node with the same NNODES, MASTER_ADDR and PORT and that
# node's NODE_RANK.
#
# Variables (torchrun flag, default):
#   NNODES       --nnodes       1
#   NODE_RANK    --node_rank    0
#   MASTER_ADDR  --master_addr  127.0.0.1
#   PORT         --master_port  29500
#   PYTHON       the interpreter, python3
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 NUM_PROCS TOOL [tool args ...]   (env: NNODES NODE_RANK MASTER_ADDR PORT PYTHON)" >&2
    exit 2
fi
NPROC=$1
TOOL=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$ROOT/tools/$TOOL" "${@:3}"
