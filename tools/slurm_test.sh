#!/usr/bin/env bash
# Testing on a Slurm cluster (mmpose's tools/slurm_test.sh, same arguments and variables; how the tasks start and
# the variables: tools/slurm_run.sh). Each task evaluates its share of the test set; the metric is computed once
# over all predictions.
#
#   [GPUS=8 GPUS_PER_NODE=8] tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args ...]
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args ...]" >&2
    exit 2
fi
exec bash "$(dirname "$0")/slurm_run.sh" "$1" "$2" test.py "$3" "$4" "${@:5}"
