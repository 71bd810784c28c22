"""The training data path on a GPU machine (``tools/gpu_benchmark.py --sections loader``): img/s of the loader with
its workers plus the data preprocessor, alone and in the full loop with the training step, for mmpose's path, ours
(crops in the workers) and ours with the crops on the device (``TopdownAffineMatrix``), on a synthetic COCO-size set.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Any, Callable, Dict, Iterator, List

import torch
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpose.registry import MODELS

from pose_plugins.apis.mmpose_configs import mmpose_equivalent, synthetic_train_config
from pose_plugins.apis.training_recipes import RECIPES, Stepper, build_recipe, device_sync

__all__ = ['DATA_PATHS', 'batches_with_targets', 'data_path_config', 'loader_rows', 'loader_table']

#: The data paths compared: mmpose's (GenerateTarget in the workers, PoseDataPreprocessor), ours (targets rendered
#: on the device) and ours with the affine crop on the device too.
DATA_PATHS = ('mmpose', 'ours', 'ours crop on device')


def data_path_config(config: str, data_root: str, path: str, *, workers: int, batch_size: int) -> Any:
    """``config`` reading ``data_root``'s train split through data path ``path`` (:data:`DATA_PATHS`) with
    ``workers`` persistent workers, batches of ``batch_size``."""
    cfg = synthetic_train_config(config, data_root)
    if path == 'mmpose':
        cfg = mmpose_equivalent(cfg)
    elif path == 'ours crop on device':
        for step in cfg.train_dataloader.dataset.pipeline:
            if step['type'] == 'pose_plugins.TopdownAffine':
                step['type'] = 'pose_plugins.TopdownAffineMatrix'
    elif path != 'ours':
        raise ValueError(f'data path must be one of {DATA_PATHS}, got {path!r}')
    cfg.train_dataloader.update(num_workers=workers, batch_size=batch_size, persistent_workers=workers > 0)
    return cfg


def _stream(cfg: Any) -> Iterator:
    init_default_scope('mmpose')
    loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=0)
    while True:
        yield from loader


def _rate(call: Callable[[], None], *, warmup: int, count: int, batch_size: int, sync: Callable[[], None]) -> float:
    for _ in range(warmup):
        call()
    sync()
    start = time.perf_counter()
    for _ in range(count):
        call()
    sync()
    return batch_size * count / (time.perf_counter() - start)


def loader_rows(args: argparse.Namespace) -> List[dict]:
    """For each worker count of ``args.workers`` and each data path: img/s of (a) the loader + the model's data
    preprocessor (the batch ready on the device, targets included) and (b) the full loop, loader + training step
    (mmpose's path with ``mmpose fp32``, ours with ``args.loop_recipe``). ``args.data_root`` is the set; the first
    ``2 x workers`` batches (the workers' start and prefetch) are not timed."""
    if not args.data_root:
        raise ValueError('the loader section needs --data-root (a set from tools/make_synthetic_coco.py)')
    rows = []
    for workers in args.workers:
        for path in DATA_PATHS:
            rows.append(_measure(path, workers, args))
            print(rows[-1], flush=True)
            if args.device.startswith('cuda'):
                torch.cuda.empty_cache()
    return rows


def _measure(path: str, workers: int, args: argparse.Namespace) -> dict:
    """One row of :func:`loader_rows`."""
    sync = device_sync(args.device)
    cfg = data_path_config(args.config, args.data_root, path, workers=workers, batch_size=args.loader_batch)
    name = 'mmpose fp32' if path == 'mmpose' else args.loop_recipe
    model, wrapper, _ = build_recipe(RECIPES[name], args.config, args.device)
    stream = _stream(cfg)
    stepper = Stepper(model, wrapper, RECIPES[name])

    def data_only() -> None:
        model.data_preprocessor(next(stream), True)

    def loop() -> None:
        stepper(next(stream))
        if len(stepper.pending) >= 50:
            stepper.flush()

    def loop_sync() -> None:
        stepper.flush()
        sync()
    size = args.loader_batch
    alone = [_rate(data_only, warmup=2 * workers + 1 if i == 0 else 0, count=args.loader_batches, batch_size=size,
                   sync=sync) for i in range(args.repeats)]
    full = [_rate(loop, warmup=3 if i == 0 else 0, count=args.loader_batches, batch_size=size, sync=loop_sync)
            for i in range(args.repeats)]
    return dict(path=path, workers=workers, batch=size, step_recipe=name, data_img_s=statistics.median(alone),
                data_img_s_min=min(alone), data_img_s_max=max(alone), loop_img_s=statistics.median(full),
                loop_img_s_min=min(full), loop_img_s_max=max(full))


def loader_table(rows: List[dict]) -> str:
    """The Markdown table of :func:`loader_rows`' rows, with each path's speed-up over mmpose's."""
    base: Dict[tuple, dict] = {(r['workers'], r['batch']): r for r in rows if r['path'] == 'mmpose'}
    lines = ['| data path | workers | batch | loader + preprocessor img/s | vs mmpose | loader + step img/s '
             '(step) | vs mmpose |', '|---|---|---|---|---|---|---|']
    for r in rows:
        b = base.get((r['workers'], r['batch']))
        lines.append(
            f"| {r['path']} | {r['workers']} | {r['batch']} | {r['data_img_s']:.0f} ({r['data_img_s_min']:.0f}-"
            f"{r['data_img_s_max']:.0f}) | {r['data_img_s'] / b['data_img_s']:.2f}x | {r['loop_img_s']:.0f} "
            f"({r['loop_img_s_min']:.0f}-{r['loop_img_s_max']:.0f}; {r['step_recipe']}) | "
            f"{r['loop_img_s'] / b['loop_img_s']:.2f}x |" if b else f"| {r['path']} | {r['workers']} | ... |")
    return '\n'.join(lines)


def batches_with_targets(config: str, data_root: str, *, batch_size: int, count: int, device: str) -> List[dict]:
    """``count`` training batches of ``config`` on ``data_root`` (our data path, crops in 4 workers), moved to
    ``device`` with their targets rendered, so that mmpose's model and ours train on the same tensors."""
    init_default_scope('mmpose')
    cfg = data_path_config(config, data_root, 'ours', workers=4, batch_size=batch_size)
    preprocessor = MODELS.build(cfg.model.data_preprocessor).to(device)
    stream = _stream(cfg)
    batches = []
    for _ in range(count):
        batch = next(stream)
        samples = [sample.to(device) for sample in batch['data_samples']]
        preprocessor.encode_targets(samples, device=device)
        batches.append(dict(inputs=[image.to(device) for image in batch['inputs']], data_samples=samples))
    return batches
