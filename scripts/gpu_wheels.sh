#!/usr/bin/env bash
# The Python packages the GPU benchmark needs beyond what a CUDA + PyTorch image has, as wheels in .whl/ (ignored
# by git) for a Python 3.12 x86-64 machine with no package index: mmengine, mmcv's Python part (built here without
# its compiled ops; tools/gpu_benchmark.py --stub-missing-ops stands in for them), mmdet, mmpose and their small
# pure-Python dependencies, and pycocotools (whose COCO index stands in for xtcocotools'). Run from the repository root on a machine with pip access:
#     bash scripts/gpu_wheels.sh              # PYTHON_VERSION=3.11 for a rehearsal on this project's CPU machines
# then, on the GPU machine: bash scripts/gpu_benchmark_device.sh OUT_DIR (docs/performance.md).
set -euo pipefail
dest=.whl
mkdir -p "$dest"
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "${PYTHON_VERSION:-3.12}" --implementation cp \
    "${platforms[@]}" -d "$dest" mmengine==0.10.7 mmdet==3.2.0 mmpose==1.3.2 smplx==0.1.28 addict termcolor yapf \
    platformdirs json_tricks terminaltables munkres==1.1.4 pycocotools==2.0.10
if ! ls "$dest"/mmcv_lite-2.1.0-*.whl >/dev/null 2>&1; then
    # mmcv 2.1.0 publishes no wheel for Python 3.12: its pure-Python part (named mmcv-lite, module mmcv), built from
    # the source archive without ops in seconds
    tmp=$(mktemp -d)
    python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$tmp" mmcv==2.1.0
    MMCV_WITH_OPS=0 python3 -m pip wheel -q --no-deps --no-build-isolation --no-cache-dir -w "$dest" "$tmp"/mmcv-2.1.0.tar.gz
    rm -rf "$tmp"
fi
ls -la "$dest"
du -sh "$dest"
