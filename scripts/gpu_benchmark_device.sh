#!/usr/bin/env bash
# The GPU training figures of docs/performance.md in one command on a GPU machine with CUDA + PyTorch and no package
# index. Prepare the wheels where pip works (bash scripts/gpu_wheels.sh: .whl/), bring the repository and .whl/ to
# the GPU machine, and from the repository root run:
#     bash scripts/gpu_benchmark_device.sh OUT_DIR [ARGS...]
# ARGS go to every section after its own (argparse: the last value wins), e.g. a CPU rehearsal of the whole script:
#     --device cpu --config configs/demo/hrnet_tiny_synthetic.py --batch-sizes 2 --recipes 'ours fp32' ...
# Sections, each under its own time limit so that one running long loses nothing else (9 minutes at most; run the
# command with a 600 s limit):
#   1. set-up from .whl/ into /tmp/site; a synthetic COCO-size set (640x480, 2-6 people) generated there;
#   2. step rows at batch 64 with a profile each: mmpose fp32 and ours with each lever added (step64), then the
#      compiled recipes, whose compile time is unknown until measured (step64c);
#   3. step rows at batch 256: mmpose fp32 and our fast recipes;
#   4. the data path: loader (+ preprocessor) alone and loader + step, 8 and 16 workers, three data paths;
#   5. loss curves: 200 steps of mmpose fp32 and of our fastest recipe from the same weights on the same batches.
# Results: OUT_DIR/env.txt, OUT_DIR/results.json (each finished section's JSON) and OUT_DIR/run.log (each section's
# log, where every row is also printed as it comes, so a section stopped at its limit keeps its finished rows).
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
data=/tmp/coco_size work=/tmp/gpu_benchmark
rm -rf "$data" "$work"
mkdir -p "$work"

collect() {  # OUT_DIR/results.json (every finished section's JSON) and OUT_DIR/run.log (every section's log)
    python3 - "$work" "$out" <<'PY'
import json, pathlib, sys
work, out = map(pathlib.Path, sys.argv[1:])
results = {p.stem: json.loads(p.read_text()) for p in sorted(work.glob('*.json'))}
(out / 'results.json').write_text(json.dumps(results, indent=1))
(out / 'run.log').write_text(''.join(f'==== {p.stem}\n{p.read_text()}' for p in sorted(work.glob('*.log'))))
PY
}
bench() {  # NAME LIMIT_S ARGS...: one section under a time limit, then everything so far collected into OUT_DIR
    local name=$1 limit=$2
    shift 2
    timeout "$limit" python3 tools/gpu_benchmark.py --stub-missing-ops --out "$work/$name.json" "$@" ${extra[@]+"${extra[@]}"} \
        > "$work/$name.log" 2>&1
    echo "$name: exit $? ($(date +%T))"
    tail -n 30 "$work/$name.log"
    collect
}
bench data 40 --sections data --data-root "$data"
bench step64 110 --sections step profile --batch-sizes 64 --steps 8 --profile-steps 3 \
    --recipes 'mmpose fp32' 'ours fp32' 'ours fp32 nosync' 'ours fp32 nosync fused' 'ours fast'
bench step64c 140 --sections step profile --batch-sizes 64 --steps 8 --profile-steps 3 \
    --recipes 'ours fast compile' 'ours fast compile cudagraphs'
bench step256 90 --sections step --batch-sizes 256 --steps 8 --recipes 'mmpose fp32' 'ours fast' 'ours fast compile'
bench loader 70 --sections loader --data-root "$data" --workers 8 16 --loader-batches 12 --repeats 2
bench loss 90 --sections loss --data-root "$data" --loss-recipe 'ours fast compile' --loss-steps 200
