"""GPU training throughput of HRNet-W32 256x192: mmpose's fp32 recipe vs ours (README "Performance").

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
  scaling) and
  :class:`pose_plugins.engine.FastGPUTrainingHook`;
- ``ours bf16 + channels_last + compile``: ``--fast-gpu --compile`` (compile time excluded, reported apart).

Per recipe and batch size: warm-up steps, then ``--steps`` timed steps (CUDA-synchronised), repeated
``--repeats`` times; img/s is the median over repeats with the slowest and fastest repeat. Peak memory is
``torch.cuda.max_memory_allocated`` over the recipe's steps. Model FLOPs per image are counted once by
``torch.utils.flop_counter`` on a forward + backward of the fp32 model; MFU = img/s x FLOPs per image / the GPU's
dense bf16 peak (``--peak-tflops``, default 989.4: H100 SXM and H200 datasheets).

On a machine whose mmcv has no compiled ops (the GPU machine of our workplace: Python 3.12, no mmcv build),
``--stub-missing-ops`` lets ``import mmpose`` succeed by standing in for ``mmcv.ops`` and xtcocotools, which
none of the benchmarked code calls (deformable attention, NMS, COCO evaluation); any use of a stand-in raises.
"""
from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import json
import os
import os.path as osp
import statistics
import sys
import time
import types
from datetime import datetime, timezone

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMPOSE_CONFIG = 'body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py'
OUR_CONFIG = osp.join(REPO, 'configs', 'hrnet_w32_coco.py')
RECIPES = ('mmpose fp32', 'ours fp32', 'ours bf16 + channels_last', 'ours bf16 + channels_last + compile')


class _MissingOpsStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Modules named in ``prefixes`` import as stand-ins whose every attribute is a class that raises when used."""

    def __init__(self, prefixes: tuple) -> None:
        self.prefixes = prefixes

    def find_spec(self, name, path=None, target=None):
        if any(name == p or name.startswith(p + '.') for p in self.prefixes):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []

        def __getattr__(attr: str):
            if attr.startswith('__'):
                raise AttributeError(attr)

            def refuse(*args, **kwargs):
                raise RuntimeError(f'{spec.name}.{attr} is a stand-in (tools/gpu_benchmark.py --stub-missing-ops)')
            return type(attr, (), {'__init__': refuse, '__call__': refuse})
        module.__getattr__ = __getattr__
        return module

    def exec_module(self, module) -> None:
        pass


def stub_missing_ops() -> None:
    """Stand in for ``mmcv.ops`` (when mmcv has no compiled ``_ext``) and xtcocotools (when it cannot import)."""
    prefixes = []
    try:
        import mmcv.ops  # noqa: F401
    except Exception:  # ImportError / ModuleNotFoundError of mmcv._ext
        for name in [m for m in sys.modules if m == 'mmcv.ops' or m.startswith('mmcv.ops.')]:
            del sys.modules[name]
        prefixes.append('mmcv.ops')
    try:
        import xtcocotools.coco  # noqa: F401
    except Exception:
        for name in [m for m in sys.modules if m.split('.')[0] == 'xtcocotools']:
            del sys.modules[name]
        prefixes.append('xtcocotools')
    if prefixes:
        sys.meta_path.insert(0, _MissingOpsStandIn(tuple(prefixes)))
        print(f'stand-ins for {prefixes} (--stub-missing-ops)', flush=True)


def build_model(recipe: str, device: str):
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    if recipe.startswith('mmpose'):
        import mmpose
        path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', MMPOSE_CONFIG)
    else:
        import pose_plugins  # noqa: F401
        path = OUR_CONFIG
    cfg = Config.fromfile(path)
    cfg.model.pop('init_cfg', None)
    cfg.model.backbone.pop('init_cfg', None)  # no pretrained download: random init (speed does not depend on it)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device)
    model.train()
    return model, cfg


def make_batch(batch: int, device: str, cfg) -> dict:
    """A training batch as the data loader + ``pseudo_collate`` give it: uint8 images and data samples with
    heatmap targets (17, 64, 48) and keypoint weights (1, 17), already on ``device``."""
    import torch
    from mmengine.structures import InstanceData, PixelData
    from mmpose.structures import PoseDataSample
    g = torch.Generator().manual_seed(0)
    w, h = cfg.codec['input_size']
    hw, hh = cfg.codec['heatmap_size']
    inputs = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8).to(device) for _ in range(batch)]
    samples = []
    for _ in range(batch):
        sample = PoseDataSample(metainfo=dict(input_size=(w, h), flip_indices=list(range(17))))
        sample.gt_fields = PixelData(heatmaps=torch.rand(17, hh, hw, generator=g).to(device))
        sample.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, 17).to(device))
        sample.gt_instances = InstanceData()
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def optim_wrapper(model, recipe: str):
    import torch
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)  # the configs' optimizer
    if 'bf16' in recipe:
        return AmpOptimWrapper(optimizer=optimizer, dtype='bfloat16', loss_scale=dict(enabled=False))  # as --fast-gpu
    return OptimWrapper(optimizer=optimizer)


def flops_per_image(model, batch: dict, device: str) -> float:
    """FLOPs of one forward + backward of the fp32 model per image (``torch.utils.flop_counter``)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    small = dict(inputs=batch['inputs'][:2], data_samples=batch['data_samples'][:2])
    data = model.data_preprocessor(small, True)
    with FlopCounterMode(display=False) as counter:
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 2


def time_recipe(recipe: str, batch_size: int, args) -> dict:
    import torch
    from pose_plugins.engine import FastGPUTrainingHook
    device = args.device
    model, cfg = build_model(recipe, device)
    batch = make_batch(batch_size, device, cfg)
    wrapper = optim_wrapper(model, recipe)
    if 'channels_last' in recipe:
        hook = FastGPUTrainingHook(channels_last=True, compile='compile' in recipe)
        if not hook.apply(model):
            raise RuntimeError(f'{recipe}: needs a CUDA device')
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    model.train_step(batch, wrapper)  # the first step compiles (with compile) and picks cuDNN algorithms
    sync()
    first_step_s = time.perf_counter() - start
    for _ in range(args.warmup):
        model.train_step(batch, wrapper)
    sync()
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            model.train_step(batch, wrapper)
        sync()
        rates.append(batch_size * args.steps / (time.perf_counter() - start))
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith('cuda') else None
    del model, batch, wrapper
    if device.startswith('cuda'):
        torch.cuda.empty_cache()
    return dict(recipe=recipe, batch=batch_size, img_s=statistics.median(rates), img_s_min=min(rates),
                img_s_max=max(rates), peak_mem_gib=peak, first_step_s=first_step_s,
                compile_s=first_step_s if 'compile' in recipe else None,
                steps=args.steps, repeats=args.repeats)


def run(args) -> list[dict]:
    """Rows for every recipe and batch size, each with MFU against ``args.peak_tflops``."""
    import torch
    if args.stub_missing_ops:
        stub_missing_ops()
    torch.backends.cudnn.benchmark = bool(args.cudnn_benchmark)  # the same setting for every recipe
    model, cfg = build_model('ours fp32', args.device)
    per_image = flops_per_image(model, make_batch(2, args.device, cfg), args.device)
    del model
    rows = []
    recipes = [r for r in RECIPES if args.recipes is None or r in args.recipes]
    for batch_size in args.batch_sizes:
        for recipe in recipes:
            row = time_recipe(recipe, batch_size, args)
            row['gflops_per_img'] = per_image / 1e9
            row['mfu'] = row['img_s'] * per_image / (args.peak_tflops * 1e12)
            rows.append(row)
            print(json.dumps(row), flush=True)
    base = {r['batch']: r['img_s'] for r in rows if r['recipe'] == 'mmpose fp32'}
    for row in rows:
        row['vs_mmpose_fp32'] = row['img_s'] / base[row['batch']] if row['batch'] in base else None
    return rows


def benchmark_rows(rows: list[dict]) -> list[dict]:
    """``rows`` as rows of ``tools/benchmark.py``'s table: each of our recipes against mmpose's fp32 at the same
    batch size, as seconds per step (shown as img/s, median and the spread over repeats)."""
    def step_times(row: dict) -> dict:
        batch = row['batch']
        return dict(median=batch / row['img_s'], min=batch / row['img_s_max'], max=batch / row['img_s_min'],
                    repeats=row['repeats'])
    def memory(row: dict) -> str:
        return '' if row['peak_mem_gib'] is None else f", peak {row['peak_mem_gib']:.1f} GiB"
    mmpose = {r['batch']: r for r in rows if r['recipe'] == 'mmpose fp32'}
    return [dict(section='gpu_train', name=f"HRNet-W32 256x192 training, {r['recipe']} (mmpose: fp32), "
                 f"B={r['batch']}{memory(r)}, MFU {100 * r['mfu']:.1f}%",
                 unit='img/s', scale=r['batch'], rate=True, ours=step_times(r),
                 **({'mmpose': step_times(mmpose[r['batch']])} if r['batch'] in mmpose else {}))
            for r in rows if r['recipe'] != 'mmpose fp32']


def table(rows: list[dict], device_name: str) -> str:
    lines = [f'GPU training, HRNet-W32 256x192 ({device_name}, {datetime.now(timezone.utc):%Y-%m-%d})', '',
             '| recipe | batch | img/s (median, min-max) | vs mmpose fp32 | peak GiB | MFU (bf16 peak) |',
             '|---|---|---|---|---|---|']
    for r in rows:
        ratio = f"{r['vs_mmpose_fp32']:.2f}x" if r.get('vs_mmpose_fp32') else '-'
        peak = f"{r['peak_mem_gib']:.1f}" if r['peak_mem_gib'] is not None else '-'
        lines.append(f"| {r['recipe']} | {r['batch']} | {r['img_s']:.0f} ({r['img_s_min']:.0f}-{r['img_s_max']:.0f}) "
                     f"| {ratio} | {peak} | {100 * r['mfu']:.1f}% |")
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[64, 128, 256])
    parser.add_argument('--recipes', nargs='+', choices=RECIPES, default=None, help='default: all')
    parser.add_argument('--steps', type=int, default=10, help='timed steps a repeat')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--cudnn-benchmark', type=int, default=1, help='torch.backends.cudnn.benchmark for all')
    parser.add_argument('--peak-tflops', type=float, default=989.4, help='dense bf16 peak of the GPU, TFLOP/s')
    parser.add_argument('--stub-missing-ops', action='store_true')
    parser.add_argument('--out', help='JSON file for the rows (must not exist yet)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.out and osp.exists(args.out):
        raise FileExistsError(f'--out {args.out} exists; choose another file')
    import torch
    rows = run(args)
    name = torch.cuda.get_device_name() if args.device.startswith('cuda') else args.device
    print(table(rows, name))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(device=name, date=f'{datetime.now(timezone.utc):%Y-%m-%d}', torch=torch.__version__,
                           rows=rows), f, indent=1)


if __name__ == '__main__':
    main()
