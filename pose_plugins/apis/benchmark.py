"""Ours vs mmpose, timed in the same process on the same inputs (``tools/benchmark.py``): rows of a Markdown table
and a JSON file.

Each row times one operation of ours and mmpose's equivalent, alternating the two in every repeat; a row holds,
per side, seconds per call (median, min and max over repeats) and, where outputs are compared, their largest
difference (``max_diff``). Sections (:data:`SECTIONS`): ``encode``, ``decode``, ``pipeline``, ``model``, ``train``,
``inference``, ``video`` (:mod:`pose_plugins.apis.video_benchmark`: frames/s on a clip), ``gpu_train``
(:mod:`pose_plugins.apis.gpu_benchmark`'s rows, when CUDA is available).
"""
import argparse
import json
import os
import os.path as osp
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config

from pose_plugins.apis import CONFIGS_DIR, gpu_benchmark, video_benchmark
from pose_plugins.apis.mmpose_configs import mmpose_equivalent, synthetic_train_config
from pose_plugins.cli import ToolArgumentParser, load_config
from pose_plugins.codecs import CPNBlurHeatmap, IntegralRegressionLabel, MSRAHeatmap
from pose_plugins.models.heads import HeatmapHead
from pose_plugins.synthetic import SyntheticCocoConfig, make_synthetic_coco

__all__ = ['SECTIONS', 'QUICK_SECTIONS', 'main', 'mmpose_equivalent', 'parse_args', 'synthetic_train_config', 'table',
           'time_pair']

K, HEATMAP_HW, INPUT_WH = 17, (64, 48), (192, 256)
DEMO_CONFIG = osp.join(CONFIGS_DIR, 'demo', 'hrnet_tiny_synthetic.py')
COCO_CONFIG = osp.join(CONFIGS_DIR, 'hrnet_w32_coco.py')
#: one published config per architecture (``--model-configs all``: every configs/*.py)
MODEL_CONFIGS = ('hrnet_w32_coco', 'simplebaseline_res50_coco', 'hourglass_s2_coco', 'cpn_res50_coco',
                 'integral_res50_coco', 'integral3d_res50_256x256')


def time_pair(fns: Dict[str, Callable[[], object]], *, repeats: int, min_time: float) -> Dict[str, dict]:
    """Median, min and max seconds per call of each function, over ``repeats`` interleaved repeats."""
    loops = {}
    for name, fn in fns.items():  # warm up, then size each repeat to about min_time
        fn()
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < min_time / 4:
            fn()
            n += 1
        loops[name] = max(1, int(n * min_time / max(time.perf_counter() - start, 1e-9)))
    samples: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(loops[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / loops[name])
    return {name: _summary(s, loops[name]) for name, s in samples.items()}


def _summary(seconds: List[float], loops: int) -> dict:
    return dict(median=statistics.median(seconds), min=min(seconds), max=max(seconds), loops=loops,
                repeats=len(seconds))


def _row(section: str, name: str, unit: str, scale: float, times: Dict[str, dict], *, rate: bool = False,
         **extra) -> dict:
    """A table row: ``times`` of 'ours' and 'mmpose' (seconds per call; mmpose's may be absent), shown as
    ``value * scale`` or, with ``rate``, as ``scale / value`` (e.g. samples/s)."""
    return dict(section=section, name=name, unit=unit, scale=scale, rate=rate, **times, **extra)


def _mmpose_config_dir() -> str:
    import mmpose
    return osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs')


# ----------------------------------------------------------------------------------------------------- encode
def _keypoints(batch: int, seed: int = 0) -> np.ndarray:
    """(B, 1, K, 2) float32 keypoints inside a 192x256 input, >= 24 px from its border (where MegviiHeatmap
    and CPN's normalisation agree, see pose_plugins.codecs.CPNBlurHeatmap)."""
    rng = np.random.default_rng(seed)
    return rng.uniform([24, 24], [INPUT_WH[0] - 25, INPUT_WH[1] - 25], size=(batch, 1, K, 2)).astype(np.float32)


def bench_encode(args: argparse.Namespace) -> List[dict]:
    """Per-sample target generation: our batched encode and per-sample encode vs mmpose's encode."""
    from mmpose.codecs import IntegralRegressionLabel as MMPoseIntegral
    from mmpose.codecs import MegviiHeatmap
    from mmpose.codecs import MSRAHeatmap as MMPoseMSRA

    batch = 4 if args.quick else 64
    keypoints = _keypoints(batch)
    visible = np.ones(keypoints.shape[:3], np.float32)
    size = dict(input_size=INPUT_WH, heatmap_size=HEATMAP_HW[::-1])
    kernels = (15, 11, 9, 7)
    megvii = [MegviiHeatmap(**size, kernel_size=k) for k in kernels]
    cases = [
        ('MSRAHeatmap (sigma 2)', MSRAHeatmap(**size, sigma=2), lambda k, v: MMPoseMSRA(**size, sigma=2).encode(k, v),
         lambda e: e['heatmaps'], lambda e: e['heatmaps']),
        ('CPN blur, 4 levels (k 15/11/9/7) vs 4 MegviiHeatmap', CPNBlurHeatmap(**size, kernel_sizes=kernels),
         lambda k, v: [m.encode(k, v) for m in megvii],
         lambda e: 255 * np.stack(e['heatmaps']) if isinstance(e['heatmaps'], list) else 255 * e['heatmaps'],
         lambda e: np.stack([x['heatmaps'] for x in e])),
        ('IntegralRegressionLabel (64x64 maps)',
         IntegralRegressionLabel(input_size=(256, 256), heatmap_size=(64, 64)),
         lambda k, v: MMPoseIntegral(input_size=(256, 256), heatmap_size=(64, 64), sigma=2).encode(k, v),
         lambda e: e['heatmaps'], lambda e: e['heatmaps']),
    ]
    rows = []
    for name, ours, theirs_encode, ours_maps, their_maps in cases:
        theirs_codecs = theirs_encode  # one closure per case
        kp_tensor, vis_tensor = torch.from_numpy(keypoints), torch.from_numpy(visible)
        batched = ours.batch_encode(kp_tensor, vis_tensor)
        batched_maps = batched['heatmaps'].numpy()
        if batched_maps.ndim == 5:  # (B, L, K, H, W)
            batched_maps = 255 * batched_maps
        want = [their_maps(theirs_codecs(keypoints[i], visible[i])) for i in range(batch)]
        diff_batched = max(float(np.abs(batched_maps[i] - want[i]).max()) for i in range(batch))
        diff_single = max(float(np.abs(ours_maps(ours.encode(keypoints[i], visible[i])) - want[i]).max())
                          for i in range(batch))
        times = time_pair(dict(ours=lambda: ours.batch_encode(kp_tensor, vis_tensor),
                               mmpose=lambda: [theirs_codecs(keypoints[i], visible[i]) for i in range(batch)]),
                          repeats=args.repeats, min_time=args.min_time)
        rows.append(_row('encode', f'{name}: ours batch_encode (B={batch}, CPU)', 'us / sample', 1e6 / batch,
                         times, max_diff=diff_batched))
        times = time_pair(dict(ours=lambda: [ours.encode(keypoints[i], visible[i]) for i in range(batch)],
                               mmpose=lambda: [theirs_codecs(keypoints[i], visible[i]) for i in range(batch)]),
                          repeats=args.repeats, min_time=args.min_time)
        rows.append(_row('encode', f'{name}: ours encode (per sample)', 'us / sample', 1e6 / batch, times,
                         max_diff=diff_single))
    return rows


# ----------------------------------------------------------------------------------------------------- decode
def _predicted_heatmaps(batch: int, seed: int = 0) -> torch.Tensor:
    """(B, K, H, W) heatmaps as a trained model outputs them: targets of random keypoints, scaled, plus noise."""
    rng = np.random.default_rng(seed)
    codec = MSRAHeatmap(input_size=INPUT_WH, heatmap_size=HEATMAP_HW[::-1], sigma=2.0)
    keypoints = rng.uniform([4, 4], [INPUT_WH[0] - 5, INPUT_WH[1] - 5], size=(batch, K, 2))
    maps = np.stack([codec.encode(k[None])['heatmaps'] for k in keypoints])
    maps = maps * rng.uniform(0.3, 1.0, size=(batch, K, 1, 1)) + rng.normal(0, 0.02, size=maps.shape)
    return torch.from_numpy(maps.astype(np.float32))


def bench_decode(args: argparse.Namespace) -> List[dict]:
    """HeatmapHead.predict (decoding only) of ours vs mmpose's, plain and DARK, several batch sizes."""
    from mmengine.registry import DefaultScope
    from mmpose.models.heads import HeatmapHead as MMPoseHeatmapHead
    from mmpose.structures import PoseDataSample

    rows = []
    for unbiased in (False, True):
        codec = dict(input_size=INPUT_WH, heatmap_size=HEATMAP_HW[::-1], sigma=2, unbiased=unbiased)
        head_cfg = dict(in_channels=K, out_channels=K, deconv_out_channels=None, final_layer=None)
        with DefaultScope.overwrite_default_scope('mmpose'):
            theirs = MMPoseHeatmapHead(**head_cfg, decoder=dict(type='MSRAHeatmap', **codec)).eval()
        ours = HeatmapHead(**head_cfg, decoder=dict(type='pose_plugins.MSRAHeatmap', **codec)).eval()
        for batch in ((1, 4) if args.quick else (1, 64, 256)):
            heatmaps = _predicted_heatmaps(batch)
            samples = [PoseDataSample(metainfo=dict(flip_indices=list(range(K)))) for _ in range(batch)]
            with torch.no_grad():
                want = theirs.predict((heatmaps, ), samples)
                got = ours.predict((heatmaps, ), samples)
            diff = max(float(np.abs(g.keypoints - w.keypoints).max()) for g, w in zip(got, want))
            with torch.no_grad():
                times = time_pair(dict(ours=lambda: ours.predict((heatmaps, ), samples),
                                       mmpose=lambda: theirs.predict((heatmaps, ), samples)),
                                  repeats=args.repeats, min_time=args.min_time)
            rows.append(_row('decode', f'HeatmapHead.predict {"DARK" if unbiased else "plain"}, B={batch}, '
                             f'{K}x{HEATMAP_HW[0]}x{HEATMAP_HW[1]} (max diff: px)', 'ms / batch', 1e3, times,
                             max_diff=diff))
    return rows


# ------------------------------------------------------------------------------------------ configs and data
def synthetic_set(kind: str, args: argparse.Namespace) -> str:
    """A synthetic COCO-format set under the benchmark's temporary folder, generated once per run: ``demo``
    (the demo's images: 256x256, 1-3 people) or ``coco`` (COCO's size, 640x480, 2-6 people)."""
    root = osp.join(args.tmp_dir, kind)
    if not osp.isdir(root):
        images = 3 if args.quick else 40
        config = SyntheticCocoConfig() if kind == 'demo' else SyntheticCocoConfig(
            image_size=(640, 480), people_per_image=(2, 6), person_height=(150.0, 420.0))
        make_synthetic_coco(root, num_train_images=images, num_val_images=2, seed=0, config=config)
    return root


def _build_dataset(cfg: Config) -> Any:
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS
    init_default_scope('mmpose')
    return DATASETS.build(cfg.train_dataloader.dataset)


# --------------------------------------------------------------------------------------------------- pipeline
def _cycle(dataset: Any) -> Callable[[], object]:
    """One ``__getitem__`` per call, through the whole dataset and again."""
    state = dict(index=0)

    def step() -> object:
        item = dataset[state['index'] % len(dataset)]
        state['index'] += 1
        return item
    return step


def bench_pipeline(args: argparse.Namespace) -> List[dict]:
    """Samples/s of one worker: the fast training pipeline of our config vs the same config on mmpose's path."""
    import cv2
    cv2.setNumThreads(0)  # as in training (mmengine's env_cfg: opencv_num_threads=0)
    rows = []
    cases = [('demo', DEMO_CONFIG, 'demo images (256x256, 1-3 people), demo config 128x96')]
    if not args.quick:
        cases.append(('coco', COCO_CONFIG, 'COCO-size images (640x480, 2-6 people), hrnet_w32_coco 256x192'))
    for kind, config, name in cases:
        ours_cfg = synthetic_train_config(config, synthetic_set(kind, args))
        ours, theirs = _build_dataset(ours_cfg), _build_dataset(mmpose_equivalent(ours_cfg))
        np.random.seed(0)
        times = time_pair(dict(ours=_cycle(ours), mmpose=_cycle(theirs)), repeats=args.repeats,
                          min_time=args.min_time * 5)
        rows.append(_row('pipeline', f'train pipeline, {name} ({len(ours)} samples)', 'samples/s a worker', 1.0,
                         times, rate=True))
    return rows


# ------------------------------------------------------------------------------------------------------ model
def _mmpose_config_of(path: str) -> Optional[str]:
    """mmpose's config named on our config's ``# mmpose equivalent: <path>`` line, if its package has it."""
    with open(path) as f:
        for line in f:
            if line.startswith('# mmpose equivalent:'):
                candidate = osp.join(_mmpose_config_dir(), line.split(':', 1)[1].strip())
                return candidate if osp.isfile(candidate) else None
    return None


def _model_step(model: torch.nn.Module, inputs: torch.Tensor, backward: bool) -> Callable[[], None]:
    """Forward (eval, no grad) or forward + backward of the sum of squared outputs."""
    def flat(out: Any) -> List[torch.Tensor]:
        return [out] if isinstance(out, torch.Tensor) else [t for o in out for t in flat(o)]

    def step() -> None:
        if backward:
            model.train()
            loss = sum(t.float().pow(2).sum() for t in flat(model(inputs, None, mode='tensor')))
            loss.backward()
            model.zero_grad(set_to_none=True)
        else:
            model.eval()
            with torch.no_grad():
                model(inputs, None, mode='tensor')
    return step


def bench_model(args: argparse.Namespace) -> List[dict]:
    """img/s of each architecture's published config at batch 8 vs mmpose's same architecture."""
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS
    names = sorted(f[:-3] for f in os.listdir(CONFIGS_DIR) if f.endswith('.py')) \
        if args.model_configs == 'all' else args.model_configs.split(',')
    batch = 2 if args.quick else 8
    rows = []
    for name in names:
        path = osp.join(CONFIGS_DIR, f'{name}.py')
        init_default_scope('mmpose')
        cfg = load_config(path)
        ours = MODELS.build(cfg.model)
        w, h = cfg.codec['input_size']
        inputs = torch.randn(batch, 3, h, w)
        theirs_path = _mmpose_config_of(path)
        theirs = None
        if theirs_path is not None:
            init_default_scope('mmpose')
            theirs = MODELS.build(Config.fromfile(theirs_path).model)
        for backward in (False, True):
            fns = dict(ours=_model_step(ours, inputs, backward))
            if theirs is not None:
                fns['mmpose'] = _model_step(theirs, inputs, backward)
            times = time_pair(fns, repeats=args.model_repeats, min_time=0.0)
            mmpose_name = osp.basename(theirs_path)[:-3] if theirs_path else 'mmpose has none'
            rows.append(_row('model', f'{name} {"forward+backward" if backward else "forward"}, B={batch}, '
                             f'{w}x{h} (mmpose: {mmpose_name})', 'img/s', batch, times, rate=True))
    return rows


# ------------------------------------------------------------------------------------------------------ train
def _training_iterations(cfg: Config) -> Callable[[], None]:
    """One training iteration per call (next batch from the config's loader with its workers, then
    ``train_step``: preprocessing, forward, backward, Adam step)."""
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    model = MODELS.build(cfg.model)
    model.train()
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=cfg.optim_wrapper.optimizer.lr))

    def batches() -> Iterator:
        while True:
            yield from loader
    stream = batches()

    def step() -> None:
        model.train_step(next(stream), optim)
    return step


def bench_train(args: argparse.Namespace) -> List[dict]:
    """End-to-end training img/s of the demo config vs the same config on mmpose's components."""
    ours_cfg = synthetic_train_config(DEMO_CONFIG, synthetic_set('demo', args))
    if args.quick:
        ours_cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfgs = dict(ours=ours_cfg, mmpose=mmpose_equivalent(ours_cfg))
    steps = {name: _training_iterations(cfg) for name, cfg in cfgs.items()}
    workers = ours_cfg.train_dataloader.num_workers
    drain = 2 * workers + 1  # the batches a side's workers prefetched (prefetch_factor 2) while the other ran
    samples: Dict[str, List[float]] = {name: [] for name in steps}
    for _ in range(args.train_rounds):
        for name, step in steps.items():
            for _ in range(drain):
                step()
            start = time.perf_counter()
            for _ in range(args.train_iters):
                step()
            samples[name].append((time.perf_counter() - start) / args.train_iters)
    batch = ours_cfg.train_dataloader.batch_size
    return [_row('train', f'demo config end to end, batch {batch}, {workers} workers, {args.train_iters} '
                 f'iterations a round', 'img/s', batch,
                 {name: _summary(s, args.train_iters) for name, s in samples.items()}, rate=True)]


# -------------------------------------------------------------------------------------------------- inference
def bench_inference(args: argparse.Namespace) -> List[dict]:
    """MMPoseInferencer and inference_topdown latency / throughput, HRNet-W32, ours vs mmpose's config."""
    from mmpose.apis import MMPoseInferencer, inference_topdown, init_model
    root = synthetic_set('coco', args) if not args.quick else synthetic_set('demo', args)
    image = osp.join(root, 'train2017', sorted(os.listdir(osp.join(root, 'train2017')))[0])
    theirs_config = _mmpose_config_of(COCO_CONFIG)
    configs = dict(ours=COCO_CONFIG, mmpose=theirs_config)
    rng = np.random.default_rng(0)
    boxes = np.concatenate([rng.uniform(0, 200, (8, 2)), rng.uniform(300, 460, (8, 2))], axis=1).astype(np.float32)
    rows = []
    models = {name: init_model(cfg, None, device='cpu') for name, cfg in configs.items()}
    for count in (1, 8):
        times = time_pair({name: (lambda m=model: inference_topdown(m, image, boxes[:count]))
                           for name, model in models.items()}, repeats=args.model_repeats, min_time=0.0)
        rows.append(_row('inference', f'inference_topdown, {count} box{"es" if count > 1 else ""} (one batch), '
                         f'HRNet-W32 256x192, flip test', 'ms / person', 1e3 / count, times))
    inferencers = {name: MMPoseInferencer(pose2d=cfg, pose2d_weights=None, device='cpu', det_model='whole_image',
                                          show_progress=False) for name, cfg in configs.items()}
    times = time_pair({name: (lambda i=inferencer: list(i(image, return_vis=False)))
                       for name, inferencer in inferencers.items()}, repeats=args.model_repeats, min_time=0.0)
    rows.append(_row('inference', 'MMPoseInferencer, one image, whole-image box, HRNet-W32', 'ms / image', 1e3,
                     times))
    return rows


# ------------------------------------------------------------------------------------------------------- gpu
def bench_gpu_train(args: argparse.Namespace) -> List[dict]:
    """:mod:`pose_plugins.apis.gpu_benchmark`'s rows when CUDA is available, else one row saying why not."""
    if not torch.cuda.is_available():
        return [dict(section='gpu_train', name='GPU training: skipped (no CUDA)', unit='', scale=1.0, rate=False)]
    # its own defaults (recipes, batch sizes, the GPU's peak for MFU); its rows in this table's format
    return gpu_benchmark.benchmark_rows(gpu_benchmark.run(gpu_benchmark.parse_args([]))['rows'])


def bench_video(args: argparse.Namespace) -> List[dict]:
    """:func:`pose_plugins.apis.video_benchmark.bench_video`'s rows (frames/s on a synthetic clip)."""
    return video_benchmark.bench_video(args, time_pair, _row)


SECTIONS = dict(encode=bench_encode, decode=bench_decode, pipeline=bench_pipeline, model=bench_model,
                train=bench_train, inference=bench_inference, video=bench_video, gpu_train=bench_gpu_train)
#: what --quick runs when --only is not given: the sections that take seconds
QUICK_SECTIONS = ('encode', 'decode', 'pipeline', 'gpu_train')


def _fmt(t: dict, scale: float, rate: bool) -> str:
    if rate:  # a rate: the fastest repeat is the highest value
        return f'{scale / t["median"]:.3g} ({scale / t["max"]:.3g}-{scale / t["min"]:.3g})'
    return f'{t["median"] * scale:.3g} ({t["min"] * scale:.3g}-{t["max"] * scale:.3g})'


def table(rows: List[dict]) -> str:
    """The Markdown table of ``rows``."""
    lines = ['| section | operation | unit | ours: median (min-max) | mmpose: median (min-max) | speed-up | max diff |',
             '| --- | --- | --- | --- | --- | --- | --- |']
    for row in rows:
        ours, theirs = row.get('ours'), row.get('mmpose')
        speedup = f'{theirs["median"] / ours["median"]:.2f}x' if ours and theirs else '-'
        diff = row.get('max_diff')
        lines.append(f'| {row["section"]} | {row["name"]} | {row["unit"]} | '
                     f'{_fmt(ours, row["scale"], row["rate"]) if ours else "-"} | '
                     f'{_fmt(theirs, row["scale"], row["rate"]) if theirs else "-"} | {speedup} | '
                     f'{"" if diff is None else f"{diff:.2g}"} |')
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/benchmark.py``'s flags (``argv`` None: ``sys.argv[1:]``) with ``sections`` (the names to run) added and
    ``--quick``'s sizes applied; ``description`` heads ``--help``. An unknown section exits with status 2."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', help=f'comma-separated sections (default: all; --quick: {",".join(QUICK_SECTIONS)})'
                        f'; of {",".join(SECTIONS)}')
    parser.add_argument('--quick', action='store_true', help='a smoke run: tiny sizes, 2 repeats, short repeats')
    parser.add_argument('--repeats', type=int, default=7, help='interleaved repeats per row (default 7)')
    parser.add_argument('--min-time', type=float, default=0.2, help='seconds per repeat (default 0.2)')
    parser.add_argument('--model-repeats', type=int, default=3,
                        help='repeats of the model and inference rows, one call each (default 3)')
    parser.add_argument('--model-configs', default=','.join(MODEL_CONFIGS),
                        help='configs/<name>.py of the model section, comma-separated, or "all"')
    parser.add_argument('--train-iters', type=int, default=12, help='timed training iterations a round (default 12)')
    parser.add_argument('--train-rounds', type=int, default=3, help='alternating rounds of each side (default 3)')
    parser.add_argument('--video-checkpoint', help='video section: the README demo\'s checkpoint (default: random '
                        'weights, whose poses carry no boxes)')
    parser.add_argument('--video-frames', type=int, default=48, help='video section: frames of the clip (default 48)')
    parser.add_argument('--video-seed', type=int, default=1, help='video section: the clip\'s seed (default 1)')
    parser.add_argument('--redetect-every', type=int, default=5,
                        help='video section: detector every N frames with pose-carried boxes (default 5)')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1)')
    parser.add_argument('--out', help='JSON output path (default: work_dirs/benchmark/<UTC time>.json)')
    args = parser.parse_args(argv)
    sections = args.only.split(',') if args.only else list(QUICK_SECTIONS if args.quick else SECTIONS)
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f'unknown sections {unknown}; choose from {",".join(SECTIONS)}')
    args.sections = sections
    if args.quick:
        args.repeats, args.min_time, args.model_repeats, args.train_iters, args.train_rounds = 2, 0.01, 1, 1, 1
        args.model_configs, args.video_frames = 'hrnet_w32_coco', 8
    return args


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> List[dict]:
    """``tools/benchmark.py``: run the sections, print the machine and the table, write the JSON; returns the rows.
    Exits (SystemExit) when the output file exists."""
    args = parse_args(argv, description=description)
    torch.set_num_threads(args.threads)
    import mmpose
    out = args.out or f'work_dirs/benchmark/{datetime.now(timezone.utc):%Y%m%d_%H%M%S}.json'
    if osp.exists(out):
        raise SystemExit(f'benchmark.py: error: {out} exists; pass another --out (nothing is overwritten)')
    rows = []
    with tempfile.TemporaryDirectory(prefix='pose_plugins_benchmark_') as tmp_dir:
        args.tmp_dir = tmp_dir
        for name in args.sections:
            start = time.perf_counter()
            rows += SECTIONS[name](args)
            print(f'[benchmark] {name}: {time.perf_counter() - start:.0f} s', file=sys.stderr, flush=True)
    machine = dict(date=datetime.now(timezone.utc).isoformat(timespec='seconds'), python=sys.version.split()[0],
                   torch=torch.__version__, mmpose=mmpose.__version__, platform=platform.platform(),
                   processor=_cpu_model(), cpu_count=os.cpu_count(), threads=args.threads,
                   load_average=os.getloadavg())
    print(f'machine: {machine}\n')
    print(table(rows))
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(dict(machine=machine, command=' '.join(sys.argv), rows=rows), f, indent=1)
    print(f'\nwritten: {out}')
    return rows


def _cpu_model() -> str:
    """lscpu's model name where /proc/cpuinfo has one, else platform's processor."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()

