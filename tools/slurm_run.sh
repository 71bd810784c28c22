#!/usr/bin/env bash
# What tools/slurm_train.sh and tools/slurm_test.sh share: start a tool on a Slurm cluster.
#
#   tools/slurm_run.sh PARTITION JOB_NAME TOOL [tool args ...]
#
# srun starts GPUS tasks, GPUS_PER_NODE per node. Each task gets torchrun's variables from Slurm's (RANK =
# SLURM_PROCID, LOCAL_RANK = SLURM_LOCALID, WORLD_SIZE = SLURM_NTASKS, MASTER_ADDR = the job's first node,
# MASTER_PORT = PORT) and runs TOOL --launcher pytorch: NCCL on GPU nodes, gloo on CPU-only nodes.
# (mmpose's scripts pass --launcher slurm, whose mmengine set-up calls torch.cuda.set_device and so fails on a
# node without CUDA; the variables above give the same process group on both kinds of node.)
#
# Variables (default): GPUS (8) tasks in all; GPUS_PER_NODE (8) tasks per node, and GPUs requested per node with
# --gres=gpu:N (0: CPU-only nodes: no --gres, Slurm places the tasks); CPUS_PER_TASK (5); SRUN_ARGS (extra srun
# options, split on spaces); PORT (29500); PYTHON (python3).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME TOOL [tool args ...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
TOOL=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRUN_OPTS=(-p "$PARTITION" --job-name="$JOB_NAME" --ntasks="$GPUS" --cpus-per-task="$CPUS_PER_TASK"
           --kill-on-bad-exit=1)
if [ "$GPUS_PER_NODE" -gt 0 ]; then SRUN_OPTS+=(--gres="gpu:$GPUS_PER_NODE" --ntasks-per-node="$GPUS_PER_NODE"); fi
read -r -a SRUN_EXTRA <<< "${SRUN_ARGS:-}"
export PYTHONPATH="$ROOT:${PYTHONPATH:-}" PORT=${PORT:-29500} PYTHON=${PYTHON:-python3}
# per task: torchrun's variables from Slurm's, then the tool with --launcher pytorch
TASK='export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID WORLD_SIZE=$SLURM_NTASKS MASTER_PORT=$PORT
export MASTER_ADDR=${MASTER_ADDR:-$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1)}
exec "$PYTHON" -u "$@" --launcher pytorch'
exec srun "${SRUN_OPTS[@]}" "${SRUN_EXTRA[@]}" bash -c "$TASK" slurm_task "$ROOT/tools/$TOOL" "${@:4}"
