"""GPU training throughput of HRNet-W32 256x192: mmpose's fp32 recipe vs ours (docs/performance.md).

    python tools/gpu_benchmark.py --batch-sizes 64 128 256 --out work_dirs/gpu_benchmark.json
    python tools/benchmark.py --only gpu_train          # the same rows as a section of the benchmark table

Each recipe trains ``TopdownPoseEstimator`` through mmengine's ``model.train_step`` (data preprocessor, forward,
loss + ``acc_pose``, backward, Adam step), i.e. what the Runner does per iteration, on a batch already on the GPU
(uint8 images, heatmap targets and keypoint weights), so the figures are the model's training speed without the
data loader:

- ``mmpose fp32``: mmpose's own config ``td-hm_hrnet-w32_8xb64-210e_coco-256x192.py`` and its classes, mmengine's
  ``OptimWrapper`` (PyTorch's defaults: cuDNN convolutions may use TF32, as in any mmpose run);
- ``ours fp32``: ``configs/hrnet_w32_coco.py`` (our HRNet and head), the same optimizer;
- ``ours bf16 + channels_last``: ``tools/train.py --fast-gpu``: ``AmpOptimWrapper(dtype='bfloat16')`` (no loss
  scaling) and :class:`pose_plugins.engine.FastGPUTrainingHook`;
- ``ours bf16 + channels_last + compile``: ``--fast-gpu --compile`` (compile time excluded, reported apart).

Per recipe and batch size: warm-up steps, then ``--steps`` timed steps (CUDA-synchronised), repeated
``--repeats`` times; img/s is the median over repeats with the slowest and fastest repeat. Peak memory is
``torch.cuda.max_memory_allocated`` over the recipe's steps. Model FLOPs per image are counted once by
``torch.utils.flop_counter`` on a forward + backward of the fp32 model; MFU = img/s x FLOPs per image / the GPU's
dense bf16 peak (``--peak-tflops``, default 989.4: H100 SXM and H200 datasheets).

On a machine whose mmcv has no compiled ops, ``--stub-missing-ops`` lets ``import mmpose`` succeed by standing in
for ``mmcv.ops`` and xtcocotools, which none of the benchmarked code calls (deformable attention, NMS, COCO
evaluation); any use of a stand-in raises.
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
