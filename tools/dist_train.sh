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
# Variables NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON: tools/dist_run.sh, which starts the processes.
# The global batch is NNODES x NUM_PROCS x train_dataloader.batch_size; --auto-scale-lr scales the lr to it.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NUM_PROCS [train.py args ...]   (env: NNODES NODE_RANK MASTER_ADDR PORT PYTHON)" >&2
    exit 2
fi
exec bash "$(dirname "$0")/dist_run.sh" "$2" train.py "$1" --launcher pytorch "${@:3}"
