"""GPU training throughput of HRNet-W32 256x192 per recipe and batch size: mmpose's fp32 vs ours (fp32, bf16 +
channels_last, + compile), through ``model.train_step`` on a batch already on the device (no data loader)."""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import time
from datetime import datetime, timezone
from typing import Any, Optional, Sequence

from pose_plugins.apis import CONFIGS_DIR
from pose_plugins.apis.missing_ops import stub_missing_ops
from pose_plugins.cli import ToolArgumentParser, load_config
from pose_plugins.engine import FastGPUTrainingHook

__all__ = ['RECIPES', 'benchmark_rows', 'main', 'parse_args', 'run', 'table']

MMPOSE_CONFIG = 'body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py'
OUR_CONFIG = osp.join(CONFIGS_DIR, 'hrnet_w32_coco.py')
RECIPES = ('mmpose fp32', 'ours fp32', 'ours bf16 + channels_last', 'ours bf16 + channels_last + compile')


def build_model(recipe: str, device: str) -> tuple:
    """(model in train mode on ``device``, its config): mmpose's config for 'mmpose ...' recipes, else ours;
    random init (seed 0), no pretrained weights."""
    import torch
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    if recipe.startswith('mmpose'):
        import mmpose
        path = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', MMPOSE_CONFIG)
    else:
        path = OUR_CONFIG
    cfg = load_config(path)
    cfg.model.pop('init_cfg', None)
    cfg.model.backbone.pop('init_cfg', None)  # no pretrained download: random init (speed does not depend on it)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device)
    model.train()
    return model, cfg


def make_batch(batch: int, device: str, cfg: Any) -> dict:
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


def optim_wrapper(model: Any, recipe: str) -> Any:
    """Adam (lr 5e-4, the configs'), in ``AmpOptimWrapper(dtype='bfloat16')`` without loss scaling for bf16 recipes
    (as ``--fast-gpu``), else in ``OptimWrapper``."""
    import torch
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)  # the configs' optimizer
    if 'bf16' in recipe:
        return AmpOptimWrapper(optimizer=optimizer, dtype='bfloat16', loss_scale=dict(enabled=False))  # as --fast-gpu
    return OptimWrapper(optimizer=optimizer)


def flops_per_image(model: Any, batch: dict, device: str) -> float:
    """FLOPs of one forward + backward of the fp32 model per image (``torch.utils.flop_counter``)."""
    from torch.utils.flop_counter import FlopCounterMode
    small = dict(inputs=batch['inputs'][:2], data_samples=batch['data_samples'][:2])
    data = model.data_preprocessor(small, True)
    with FlopCounterMode(display=False) as counter:
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 2


def time_recipe(recipe: str, batch_size: int, args: argparse.Namespace) -> dict:
    """One row: img/s (median, min, max over ``args.repeats`` repeats of ``args.steps`` steps), peak memory
    (GiB, CUDA only) and the first step's seconds (the compile time with compile)."""
    import torch
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


def run(args: argparse.Namespace) -> list[dict]:
    """Rows for every recipe and batch size of ``args`` (:func:`parse_args`), each with MFU against
    ``args.peak_tflops``, printed as JSON lines as they come."""
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
    """``rows`` as rows of :mod:`pose_plugins.apis.benchmark`'s table: each of our recipes against mmpose's fp32 at
    the same batch size, as seconds per step (shown as img/s, median and the spread over repeats)."""
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
    """The Markdown table of :func:`run`'s rows."""
    lines = [f'GPU training, HRNet-W32 256x192 ({device_name}, {datetime.now(timezone.utc):%Y-%m-%d})', '',
             '| recipe | batch | img/s (median, min-max) | vs mmpose fp32 | peak GiB | MFU (bf16 peak) |',
             '|---|---|---|---|---|---|']
    for r in rows:
        ratio = f"{r['vs_mmpose_fp32']:.2f}x" if r.get('vs_mmpose_fp32') else '-'
        peak = f"{r['peak_mem_gib']:.1f}" if r['peak_mem_gib'] is not None else '-'
        lines.append(f"| {r['recipe']} | {r['batch']} | {r['img_s']:.0f} ({r['img_s_min']:.0f}-{r['img_s_max']:.0f}) "
                     f"| {ratio} | {peak} | {100 * r['mfu']:.1f}% |")
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/gpu_benchmark.py``'s flags (``argv`` None: ``sys.argv[1:]``); ``description`` heads ``--help``."""
    parser = ToolArgumentParser(description=description)
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


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> None:
    """``tools/gpu_benchmark.py``: run, print the table, write ``--out``. Raises FileExistsError for an existing
    ``--out``."""
    args = parse_args(argv, description=description)
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
