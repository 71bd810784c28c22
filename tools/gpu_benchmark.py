"""GPU training of HRNet-W32 256x192: mmpose's fp32 recipe vs ours, one speed lever added per row (docs/performance.md).

    python tools/gpu_benchmark.py --batch-sizes 64 256 --out work_dirs/gpu_benchmark.json
    python tools/gpu_benchmark.py --sections data step profile loader loss --data-root /tmp/coco_size
    bash scripts/gpu_benchmark_device.sh OUT_DIR          # every section on a GPU machine, set up from carried wheels

Sections (``--sections``):

- ``data``: a synthetic COCO-size set (640x480, 2-6 people) at ``--data-root``;
- ``step``: per recipe and batch size, img/s through ``model.train_step`` (preprocessor, forward, loss + ``acc_pose``,
  backward, Adam) on a batch already on the GPU, median / min / max over ``--repeats`` repeats of ``--steps`` steps
  after ``--warmup`` steps (the log values read as the recipe's runner reads them, inside the timed steps), peak
  memory, MFU against ``--peak-tflops`` (dense bf16 peak, default 989.4: H100 SXM / H200) from the FLOPs of one
  forward + backward counted by ``torch.utils.flop_counter``, and the first step's seconds (compile time);
- ``profile``: the ``step`` rows with a ``torch.profiler`` summary each (pose_plugins.apis.profile_summary);
- ``loader``: the data path alone and with the step, 8 / 16 workers (pose_plugins.apis.loader_benchmark);
- ``loss``: 200 steps of mmpose fp32 and of ``--loss-recipe`` from the same weights on the same batches.

Recipes (pose_plugins.apis.training_recipes.RECIPES): ``mmpose fp32`` (mmpose's config and classes), ``ours fp32``,
``ours fp32 nosync``, ``ours fp32 nosync fused``, ``ours fast`` (``--fast-gpu``), ``ours fast compile``, ``ours fast
compile cudagraphs``. On a CPU (``--device cpu``) the fp32 recipes run, e.g. with the demo config.

On a machine whose mmcv has no compiled ops, ``--stub-missing-ops`` lets ``import mmpose`` succeed by standing in
for ``mmcv.ops`` and xtcocotools, which the benchmarked code does not call (deformable attention, NMS, COCO
evaluation), except xtcocotools' ``COCO`` annotation index, for which pycocotools' stands in; any other use of a
stand-in raises.
"""
import argparse
import importlib.util
import os.path as osp
import runpy
import sys


def stub_missing_ops_first() -> None:
    """With ``--stub-missing-ops``: install the stand-ins before anything imports mmpose. Every module of
    pose_plugins imports mmpose through the package's ``__init__``, so the standard-library-only
    ``pose_plugins/apis/missing_ops.py`` is run from its file."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument('--stub-missing-ops', action='store_true')
    if pre.parse_known_args()[0].stub_missing_ops:
        package = importlib.util.find_spec('pose_plugins').submodule_search_locations[0]
        runpy.run_path(osp.join(package, 'apis', 'missing_ops.py'))['stub_missing_ops']()


if __name__ == '__main__':
    stub_missing_ops_first()
    from pose_plugins.apis.gpu_benchmark import main
    from pose_plugins.cli import run_tool
    sys.exit(run_tool(main, description=__doc__.split('\n')[0]))
