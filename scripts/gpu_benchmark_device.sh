#!/usr/bin/env bash
# The GPU training figures of docs/performance.md in one command on a GPU machine with CUDA + PyTorch and no package
# index. Prepare the wheels where pip works (bash scripts/gpu_wheels.sh: .whl/), bring the repository and .whl/ to
# the GPU machine, and from the repository root run:
#     bash scripts/gpu_benchmark_device.sh OUT_DIR [ARGS...]
# ARGS go to every section after its own (argparse: the last value wins), e.g. a CPU rehearsal of the whole script:
#     --device cpu --config configs/demo/hrnet_tiny_synthetic.py --batch-sizes 2 --recipes 'ours fp32' ...
# Sections, each under its own time limit so that one running long loses nothing else (8.5 minutes at most):
#   1. set-up from .whl/ into /tmp/site; a synthetic COCO-size set (640x480, 2-6 people) generated there;
#   2. step rows at batch 64: every recipe (mmpose fp32 and ours with each lever added), with a profile of each;
#   3. step rows at batch 256: mmpose fp32 and our main recipes;
#   4. the data path: loader (+ preprocessor) alone and loader + step, 8 and 16 workers, three data paths;
#   5. loss curves: 200 steps of mmpose fp32 and of our fastest recipe from the same weights on the same batches.
# Results: OUT_DIR/{env.txt, data.json, step64.json, step256.json, loader.json, loss.json} and a .log of each.
set -uo pipefail
out=${1:?usage: bash scripts/gpu_benchmark_device.sh OUT_DIR [ARGS...]}
shift
extra=("$@")
mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc; python3 --version
  python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } > "$out/env.txt" 2>&1
data=/tmp/coco_size
rm -rf "$data"

bench() {  # NAME LIMIT_S ARGS...: one section, its log and JSON under $out
    local name=$1 limit=$2
    shift 2
    timeout "$limit" python3 tools/gpu_benchmark.py --stub-missing-ops --out "$out/$name.json" "$@" "${extra[@]}" \
        > "$out/$name.log" 2>&1
    echo "$name: exit $? ($(date +%T))"
    tail -n 40 "$out/$name.log"
}
bench data 60 --sections data --data-root "$data"
bench step64 180 --sections step profile --batch-sizes 64 --profile-steps 3
bench step256 110 --sections step --batch-sizes 256 \
    --recipes 'mmpose fp32' 'ours fp32' 'ours fast' 'ours fast compile'
bench loader 80 --sections loader --data-root "$data" --workers 8 16 --loader-batches 15 --repeats 2
bench loss 80 --sections loss --data-root "$data" --loss-recipe 'ours fast compile' --loss-steps 200
