#!/usr/bin/env bash
# Sets everything up (idempotent), then runs the main job on the embedded default: generate a synthetic COCO-format
# train/val set, train the small HRNet of configs/demo/ on CPU, evaluate COCO AP on the synthetic val set, and draw
# the predictions of mmpose's inferencer on a val image. Extra arguments go to tools/demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 tools/demo.py "$@"
