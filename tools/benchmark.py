"""Ours vs mmpose, measured in the same process on the same inputs: a Markdown table and a JSON file.

    python tools/benchmark.py                          # every section, 1 CPU thread
    python tools/benchmark.py --only decode --repeats 9 --out work_dirs/benchmark.json

Each row times one operation of ours and mmpose's equivalent through the path a user runs (for decoding: a
head's ``predict`` on heatmaps, i.e. ``TopdownPoseEstimator``'s call, with an identity head so only decoding is
timed), alternating the two in every repeat so that load on the machine hits both alike. A repeat runs the
operation enough times to last about ``--min-time`` seconds; the table gives the median over repeats with the
fastest and slowest repeat, and the ratio of the medians (mmpose / ours: > 1 means ours is faster). Rows that
compare outputs also print the largest difference between the two. Sections:

- ``decode``: ``HeatmapHead.predict`` on (B, 17, 64, 48) heatmaps of realistic predictions (Gaussian targets of
  random keypoints, scaled, plus noise), B = 1, 64, 256; plain (argmax + quarter offset) and DARK.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from typing import Callable, Dict, List

import numpy as np
import torch

K, HEATMAP_HW, INPUT_WH = 17, (64, 48), (192, 256)


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
    return {name: dict(median=statistics.median(s), min=min(s), max=max(s), loops=loops[name], repeats=repeats)
            for name, s in samples.items()}


def _predicted_heatmaps(batch: int, seed: int = 0) -> torch.Tensor:
    """(B, K, H, W) heatmaps as a trained model outputs them: targets of random keypoints, scaled, plus noise."""
    from pose_plugins.codecs import MSRAHeatmap
    rng = np.random.default_rng(seed)
    codec = MSRAHeatmap(input_size=INPUT_WH, heatmap_size=HEATMAP_HW[::-1], sigma=2.0)
    keypoints = rng.uniform([4, 4], [INPUT_WH[0] - 5, INPUT_WH[1] - 5], size=(batch, K, 2))
    maps = np.stack([codec.encode(k[None])['heatmaps'] for k in keypoints])
    maps = maps * rng.uniform(0.3, 1.0, size=(batch, K, 1, 1)) + rng.normal(0, 0.02, size=maps.shape)
    return torch.from_numpy(maps.astype(np.float32))


def bench_decode(repeats: int, min_time: float) -> List[dict]:
    """HeatmapHead.predict (decoding only) of ours vs mmpose's, plain and DARK, several batch sizes."""
    from mmengine.registry import DefaultScope
    from mmpose.models.heads import HeatmapHead as MMPoseHeatmapHead
    from mmpose.structures import PoseDataSample

    from pose_plugins.models.heads import HeatmapHead

    rows = []
    for unbiased in (False, True):
        codec = dict(input_size=INPUT_WH, heatmap_size=HEATMAP_HW[::-1], sigma=2, unbiased=unbiased)
        head_cfg = dict(in_channels=K, out_channels=K, deconv_out_channels=None, final_layer=None)
        with DefaultScope.overwrite_default_scope('mmpose'):
            theirs = MMPoseHeatmapHead(**head_cfg, decoder=dict(type='MSRAHeatmap', **codec)).eval()
        ours = HeatmapHead(**head_cfg, decoder=dict(type='pose_plugins.MSRAHeatmap', **codec)).eval()
        for batch in (1, 64, 256):
            heatmaps = _predicted_heatmaps(batch)
            samples = [PoseDataSample(metainfo=dict(flip_indices=list(range(K)))) for _ in range(batch)]
            with torch.no_grad():
                want = theirs.predict((heatmaps, ), samples)
                got = ours.predict((heatmaps, ), samples)
            diff = max(float(np.abs(g.keypoints - w.keypoints).max()) for g, w in zip(got, want))
            with torch.no_grad():
                times = time_pair(dict(ours=lambda: ours.predict((heatmaps, ), samples),
                                       mmpose=lambda: theirs.predict((heatmaps, ), samples)),
                                  repeats=repeats, min_time=min_time)
            rows.append(dict(section='decode', name=f'HeatmapHead.predict {"DARK" if unbiased else "plain"}, '
                             f'B={batch}, {K}x{HEATMAP_HW[0]}x{HEATMAP_HW[1]}', unit='ms / batch', scale=1e3,
                             max_keypoint_diff_px=diff, **times))
    return rows


SECTIONS = dict(decode=bench_decode)


def _fmt(t: dict, scale: float) -> str:
    return f'{t["median"] * scale:.3g} ({t["min"] * scale:.3g}-{t["max"] * scale:.3g})'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', choices=sorted(SECTIONS), help='sections to run (default: all)')
    parser.add_argument('--repeats', type=int, default=7, help='interleaved repeats per row (default 7)')
    parser.add_argument('--min-time', type=float, default=0.2, help='seconds per repeat (default 0.2)')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1)')
    parser.add_argument('--out', help='JSON output path (default: work_dirs/benchmark/<UTC time>.json)')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import pose_plugins  # noqa: F401  (registers our modules)
    import mmpose

    rows = []
    for name in args.only or sorted(SECTIONS):
        rows += SECTIONS[name](args.repeats, args.min_time)
    machine = dict(date=datetime.now(timezone.utc).isoformat(timespec='seconds'), python=sys.version.split()[0],
                   torch=torch.__version__, mmpose=mmpose.__version__, platform=platform.platform(),
                   processor=platform.processor() or platform.machine(), cpu_count=os.cpu_count(),
                   threads=args.threads)
    print(f'machine: {machine}\n')
    print('| operation | unit | ours: median (min-max) | mmpose: median (min-max) | speed-up | max diff (px) |')
    print('| --- | --- | --- | --- | --- | --- |')
    for row in rows:
        speedup = row['mmpose']['median'] / row['ours']['median']
        diff = row.get('max_keypoint_diff_px')
        print(f'| {row["name"]} | {row["unit"]} | {_fmt(row["ours"], row["scale"])} | '
              f'{_fmt(row["mmpose"], row["scale"])} | {speedup:.2f}x | {"" if diff is None else f"{diff:.2g}"} |')
    out = args.out or f'work_dirs/benchmark/{datetime.now(timezone.utc):%Y%m%d_%H%M%S}.json'
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if os.path.exists(out):
        raise SystemExit(f'benchmark: {out} exists; pass another --out (nothing is overwritten)')
    with open(out, 'w') as f:
        json.dump(dict(machine=machine, rows=rows), f, indent=1)
    print(f'\nwritten: {out}')


if __name__ == '__main__':
    main()
