#!/usr/bin/env bash
# Distributed training with torchrun (mmpose's tools/dist_train.sh, same arguments and variables).
#
#   tools/dist_train.sh CONFIG NUM_PROCS [train.py args ...]
#
# NUM_PROCS processes on this node: one per GPU with NCCL, or, without GPUs, NUM_PROCS CPU processes on gloo
# (pose_plugins.compat.setup_cpu_distributed). Several nodes: run it on every node with the same NNODES,
# MASTER_ADDR and PORT and that node's NODE_RANK, e.g. on two machines
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.1.1.1 PORT=29500 tools/dist_train.sh CONFIG 8   # on 10.1.1.1
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.1.1.1 PORT=29500 tools/dist_train.sh CONFIG 8   # on the other one
#
# Variables (torchrun flag, default):
#   NNODES       --nnodes       1
#   NODE_RANK    --node_rank    0
#   MASTER_ADDR  --master_addr  127.0.0.1
#   PORT         --master_port  29500
#   PYTHON       the interpreter, python3
# The global batch is NNODES x NUM_PROCS x train_dataloader.batch_size; --auto-scale-lr scales the lr to it.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NUM_PROCS [train.py args ...]   (env: NNODES NODE_RANK MASTER_ADDR PORT PYTHON)" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$ROOT"/tools/train.py "$CONFIG" --launcher pytorch "${@:3}"
