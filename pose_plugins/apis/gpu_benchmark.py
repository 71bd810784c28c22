"""GPU training of HRNet-W32 256x192, mmpose's fp32 recipe vs ours with each speed lever added in turn: img/s per
batch size through ``model.train_step`` (batch already on the device), a profile of the step, the data loader alone
and in the full loop, and the loss curves of the fastest recipe and mmpose's over the same data."""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from pose_plugins.apis.loader_benchmark import batches_with_targets, loader_rows, loader_table
from pose_plugins.apis.missing_ops import stub_missing_ops
from pose_plugins.apis.profile_summary import profile_steps, summarise_profile, summary_markdown
from pose_plugins.apis.training_recipes import (OUR_CONFIG, RECIPES, Stepper, build_recipe, device_sync,
                                                make_batch)
from pose_plugins.cli import ToolArgumentParser
from pose_plugins.synthetic import SyntheticCocoConfig, make_synthetic_coco

__all__ = ['SECTIONS', 'benchmark_rows', 'main', 'parse_args', 'run', 'table']

SECTIONS = ('data', 'step', 'profile', 'loader', 'loss')


def time_recipe(name: str, batch_size: int, args: argparse.Namespace) -> dict:
    """One row: img/s (median, min, max over ``args.repeats`` repeats of ``args.steps`` steps, the log values
    read within each repeat), peak memory (GiB, CUDA only) and the first step's seconds (compile time with
    compile)."""
    recipe = RECIPES[name]
    device = args.device
    model, wrapper, cfg = build_recipe(recipe, args.config, device)
    batch = make_batch(batch_size, device, cfg)
    stepper = Stepper(model, wrapper, recipe)
    sync = device_sync(device)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    stepper(batch)  # the first step compiles (with compile) and picks cuDNN algorithms
    stepper.flush()
    sync()
    first_step_s = time.perf_counter() - start
    for _ in range(args.warmup):
        stepper(batch)
    stepper.flush()
    sync()
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            stepper(batch)
        stepper.flush()
        sync()
        rates.append(batch_size * args.steps / (time.perf_counter() - start))
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith('cuda') else None
    row = dict(recipe=name, batch=batch_size, img_s=statistics.median(rates), img_s_min=min(rates),
               img_s_max=max(rates), peak_mem_gib=peak, first_step_s=first_step_s,
               compile_s=first_step_s if recipe.compile else None, steps=args.steps, repeats=args.repeats)
    if args.profile:
        row['profile'] = profile_recipe(stepper, batch, args)
    del model, batch, wrapper, stepper
    if device.startswith('cuda'):
        torch.cuda.empty_cache()
    return row


def profile_recipe(stepper: Stepper, batch: dict, args: argparse.Namespace) -> dict:
    """:func:`~pose_plugins.apis.profile_summary.summarise_profile` of ``args.profile_steps`` warm steps."""
    def step() -> None:
        stepper(batch)
        if len(stepper.pending) >= args.profile_steps:
            stepper.flush()
    profiled = profile_steps(step, steps=args.profile_steps, device=args.device)
    return summarise_profile(profiled, top_k=args.profile_top)


def flops_per_image(config: str, device: str) -> float:
    """FLOPs of one forward + backward of our fp32 model per image (``torch.utils.flop_counter``)."""
    model, _, cfg = build_recipe(RECIPES['ours fp32'], config, device)
    data = model.data_preprocessor(make_batch(2, device, cfg), True)
    with FlopCounterMode(display=False) as counter:
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
    return counter.get_total_flops() / 2


def step_rows(args: argparse.Namespace) -> List[dict]:
    """Rows for every recipe and batch size of ``args``, each with MFU against ``args.peak_tflops`` and the
    speed-up over ``mmpose fp32`` at the same batch size, printed as JSON lines as they come. A recipe that fails
    (e.g. a compile mode the installed torch cannot run) gives a row with its ``error``."""
    per_image = flops_per_image(args.config, args.device)
    rows = []
    for batch_size in args.batch_sizes:
        for name in args.recipes:
            try:
                row = time_recipe(name, batch_size, args)
            except Exception as error:  # noqa: BLE001  (one lever failing must not lose the other rows)
                row = dict(recipe=name, batch=batch_size, error=f'{type(error).__name__}: {error}'[:2000])
            if 'img_s' in row:
                row['gflops_per_img'] = per_image / 1e9
                row['mfu'] = row['img_s'] * per_image / (args.peak_tflops * 1e12)
            rows.append(row)
            print(json.dumps(row), flush=True)  # what a section stopped at its time limit keeps
    base = {r['batch']: r['img_s'] for r in rows if r['recipe'] == 'mmpose fp32' and 'img_s' in r}
    for row in rows:
        row['vs_mmpose_fp32'] = row['img_s'] / base[row['batch']] if 'img_s' in row and row['batch'] in base \
            else None
    return rows


def loss_curves(args: argparse.Namespace) -> dict:
    """``args.loss_steps`` steps of ``mmpose fp32`` and of ``args.loss_recipe`` from the same initial weights
    (mmpose's model's, loaded into ours by name) over the same batches (``args.loss_batches`` distinct ones,
    cycled; from the synthetic set's loader when ``args.data_root`` is given, else random): both loss curves and
    their largest relative gap over a ``args.loss_window``-step running mean."""
    theirs, their_wrapper, cfg = build_recipe(RECIPES['mmpose fp32'], args.config, args.device)
    state = {k: v.detach().clone() for k, v in theirs.state_dict().items()}
    batches = _curve_batches(args, cfg)
    curves = {}
    for name in ('mmpose fp32', args.loss_recipe):
        recipe = RECIPES[name]
        if name == 'mmpose fp32':
            model, wrapper = theirs, their_wrapper
        else:
            model, wrapper, _ = build_recipe(recipe, args.config, args.device, state_dict=state)
        stepper = Stepper(model, wrapper, recipe)
        for step in range(args.loss_steps):
            stepper(batches[step % len(batches)])
        stepper.flush()
        curves[name] = stepper.losses
        del model, wrapper
    a, b = (np.convolve(np.asarray(c), np.ones(args.loss_window) / args.loss_window, mode='valid')
            for c in curves.values())
    gap = np.abs(b - a) / np.abs(a)
    return dict(recipes=list(curves), curves=curves, window=args.loss_window, max_rel_gap=float(gap.max()),
                final_rel_gap=float(gap[-1]), first_loss=[c[0] for c in curves.values()],
                last_loss=[c[-1] for c in curves.values()])


def _curve_batches(args: argparse.Namespace, cfg: Any) -> list:
    """The loss curves' batches on the device, targets rendered (both recipes read them as given)."""
    if not args.data_root:
        return [make_batch(args.loss_batch, args.device, cfg, seed=i) for i in range(args.loss_batches)]
    return batches_with_targets(args.config, args.data_root, batch_size=args.loss_batch, count=args.loss_batches,
                                device=args.device)


def make_data(args: argparse.Namespace) -> dict:
    """``args.data_images`` synthetic COCO-size images (640x480, 2-6 people, seed 0) under ``args.data_root``,
    which must not exist yet."""
    if not args.data_root:
        raise ValueError('the data section needs --data-root (a folder to create)')
    if osp.exists(args.data_root):
        raise FileExistsError(f'--data-root {args.data_root} exists; the data section writes a new set')
    start = time.perf_counter()
    make_synthetic_coco(args.data_root, num_train_images=args.data_images, num_val_images=1, seed=0,
                        config=SyntheticCocoConfig(image_size=(640, 480), people_per_image=(2, 6),
                                                   person_height=(150.0, 420.0)))
    return dict(root=args.data_root, images=args.data_images, seconds=time.perf_counter() - start)


def run(args: argparse.Namespace) -> dict:
    """Every section of ``args.sections``: ``data`` (the synthetic COCO-size set at ``args.data_root``), ``step``
    (and ``profile``) rows, ``loader`` rows, ``loss`` curves."""
    if args.stub_missing_ops:
        stub_missing_ops()
    torch.backends.cudnn.benchmark = bool(args.cudnn_benchmark)  # the same setting for every recipe
    args.profile = 'profile' in args.sections
    results: Dict[str, Any] = {}
    if 'data' in args.sections:
        results['data'] = make_data(args)
    if 'step' in args.sections or args.profile:
        results['rows'] = step_rows(args)
    if 'loader' in args.sections:
        results['loader'] = loader_rows(args)
    if 'loss' in args.sections:
        results['loss'] = loss_curves(args)
        print(json.dumps({k: v for k, v in results['loss'].items() if k != 'curves'}), flush=True)
    return results


def benchmark_rows(rows: list[dict]) -> list[dict]:
    """``rows`` as rows of :mod:`pose_plugins.apis.benchmark`'s table: each of our recipes against mmpose's fp32 at
    the same batch size, as seconds per step (shown as img/s, median and the spread over repeats)."""
    def step_times(row: dict) -> dict:
        batch = row['batch']
        return dict(median=batch / row['img_s'], min=batch / row['img_s_max'], max=batch / row['img_s_min'],
                    repeats=row['repeats'])

    def memory(row: dict) -> str:
        return '' if row.get('peak_mem_gib') is None else f", peak {row['peak_mem_gib']:.1f} GiB"
    mmpose = {r['batch']: r for r in rows if r['recipe'] == 'mmpose fp32' and 'img_s' in r}
    return [dict(section='gpu_train', name=f"HRNet-W32 256x192 training, {r['recipe']} (mmpose: fp32), "
                 f"B={r['batch']}{memory(r)}, MFU {100 * r['mfu']:.1f}%",
                 unit='img/s', scale=r['batch'], rate=True, ours=step_times(r),
                 **({'mmpose': step_times(mmpose[r['batch']])} if r['batch'] in mmpose else {}))
            for r in rows if r['recipe'] != 'mmpose fp32' and 'img_s' in r]


def table(results: dict, device_name: str) -> str:
    """Markdown tables of :func:`run`'s results."""
    lines = [f'GPU training, HRNet ({device_name}, {datetime.now(timezone.utc):%Y-%m-%d})', '']
    rows = results.get('rows', [])
    if rows:
        lines += ['| recipe | batch | img/s (median, min-max) | vs mmpose fp32 | peak GiB | MFU (bf16 peak) | '
                  'first step s |', '|---|---|---|---|---|---|---|']
        for r in rows:
            if 'error' in r:
                lines.append(f"| {r['recipe']} | {r['batch']} | failed: {r['error'][:200]} | | | | |")
                continue
            ratio = f"{r['vs_mmpose_fp32']:.2f}x" if r.get('vs_mmpose_fp32') else '-'
            peak = f"{r['peak_mem_gib']:.1f}" if r['peak_mem_gib'] is not None else '-'
            lines.append(f"| {r['recipe']} | {r['batch']} | {r['img_s']:.0f} ({r['img_s_min']:.0f}-"
                         f"{r['img_s_max']:.0f}) | {ratio} | {peak} | {100 * r['mfu']:.1f}% | "
                         f"{r['first_step_s']:.1f} |")
    profiles = {f"{r['recipe']} B={r['batch']}": r['profile'] for r in rows if 'profile' in r}
    if profiles:
        lines += ['', summary_markdown(profiles)]
    if results.get('loader'):
        lines += ['', loader_table(results['loader'])]
    if results.get('loss'):
        loss = results['loss']
        lines += ['', f"Loss curves over {len(loss['curves'][loss['recipes'][0]])} steps, same weights and data: "
                  f"largest gap of the {loss['window']}-step running means {100 * loss['max_rel_gap']:.2f}% "
                  f"(last {100 * loss['final_rel_gap']:.2f}%)", '', '| step | ' + ' | '.join(loss['recipes']) + ' |',
                  '|---|' + '---|' * len(loss['recipes'])]
        curves = [loss['curves'][name] for name in loss['recipes']]
        for step in range(0, len(curves[0]), max(1, len(curves[0]) // 20)):
            lines.append(f'| {step} | ' + ' | '.join(f'{c[step]:.6f}' for c in curves) + ' |')
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/gpu_benchmark.py``'s flags (``argv`` None: ``sys.argv[1:]``); ``description`` heads ``--help``."""
    parser = ToolArgumentParser(description=description)
    parser.add_argument('--sections', nargs='+', choices=SECTIONS, default=['step'],
                        help='data: make the synthetic set at --data-root; step: img/s per recipe; profile: the same '
                             'rows with a profile each; loader: the data loader alone and in the loop; loss: loss '
                             'curves')
    parser.add_argument('--config', default=OUR_CONFIG, help="our config (mmpose's side: its W32 config for "
                        'hrnet_w32_coco.py, else the same config on mmpose\'s classes)')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[64, 256])
    parser.add_argument('--recipes', nargs='+', choices=tuple(RECIPES), default=list(RECIPES))
    parser.add_argument('--steps', type=int, default=10, help='timed steps a repeat')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--profile-steps', type=int, default=5)
    parser.add_argument('--profile-top', type=int, default=12)
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--cudnn-benchmark', type=int, default=1, help='torch.backends.cudnn.benchmark for all')
    parser.add_argument('--peak-tflops', type=float, default=989.4, help='dense bf16 peak of the GPU, TFLOP/s')
    parser.add_argument('--data-root', help='a synthetic COCO-format set (tools/make_synthetic_coco.py) for the '
                        'loader section and the loss curves')
    parser.add_argument('--data-images', type=int, default=400, help='data section: images to make')
    parser.add_argument('--workers', type=int, nargs='+', default=[8, 16], help='loader section: workers')
    parser.add_argument('--loader-batches', type=int, default=20, help='loader section: timed batches a row')
    parser.add_argument('--loader-batch', type=int, default=64, help='loader section: batch size')
    parser.add_argument('--loop-recipe', choices=tuple(RECIPES), default='ours fast',
                        help="loader section: our step in the full loop (mmpose's: mmpose fp32)")
    parser.add_argument('--loss-recipe', choices=tuple(RECIPES), default='ours fast')
    parser.add_argument('--loss-steps', type=int, default=200)
    parser.add_argument('--loss-batches', type=int, default=20)
    parser.add_argument('--loss-batch', type=int, default=64)
    parser.add_argument('--loss-window', type=int, default=20)
    parser.add_argument('--stub-missing-ops', action='store_true')
    parser.add_argument('--out', help='JSON file for the results (must not exist yet)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> None:
    """``tools/gpu_benchmark.py``: run, print the tables, write ``--out``. Raises FileExistsError for an existing
    ``--out``."""
    args = parse_args(argv, description=description)
    if args.out and osp.exists(args.out):
        raise FileExistsError(f'--out {args.out} exists; choose another file')
    results = run(args)
    name = torch.cuda.get_device_name() if args.device.startswith('cuda') else args.device
    print(table(results, name))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(device=name, date=f'{datetime.now(timezone.utc):%Y-%m-%d}', torch=torch.__version__,
                           args=vars(args), **results), f, indent=1)
