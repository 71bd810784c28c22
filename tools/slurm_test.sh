#!/usr/bin/env bash
# Testing on a Slurm cluster (mmpose's tools/slurm_test.sh, same arguments and variables).
#
#   [GPUS=8 GPUS_PER_NODE=8] tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args ...]
#
# srun starts GPUS tasks; each evaluates its share of the test set and the metric is computed once over all
# predictions. How the tasks are started and the variables: tools/slurm_train.sh.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args ...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
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
exec srun "${SRUN_OPTS[@]}" "${SRUN_EXTRA[@]}" \
    bash -c "$TASK" slurm_task "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" "${@:5}"
