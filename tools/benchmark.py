"""Ours vs mmpose, measured in the same process on the same inputs: a Markdown table and a JSON file.

    python tools/benchmark.py                          # every section, 1 CPU thread
    python tools/benchmark.py --only decode,encode --repeats 9 --out work_dirs/benchmark.json
    python tools/benchmark.py --quick                  # a smoke run of every cheap section (seconds)

Each row times one operation of ours and mmpose's equivalent through the path a user runs, alternating the two
in every repeat so that load on the machine hits both alike. A repeat runs the operation enough times to last
about ``--min-time`` seconds; the table gives the median over repeats with the fastest and slowest repeat, and
the ratio of the medians (mmpose / ours: > 1 means ours is faster). Rows that compare outputs also give the
largest difference between the two. Sections:

- ``encode``: target generation per sample at 256x192 (64x48 maps, 17 keypoints): our batched encode on the
  device (``batch_encode`` of B = 64 samples, what the fast training path runs) and our per-sample ``encode``
  vs mmpose's per-sample encode: ``MSRAHeatmap`` (sigma 2), CPN's 4 blur levels vs 4 ``MegviiHeatmap``
  encoders (kernels 15/11/9/7, ``GenerateTarget(multilevel=True)``), ``IntegralRegressionLabel`` (64x64 maps).
- ``decode``: ``HeatmapHead.predict`` on (B, 17, 64, 48) heatmaps of realistic predictions (Gaussian targets of
  random keypoints, scaled, plus noise), B = 1, 64, 256; plain (argmax + quarter offset) and DARK.
- ``pipeline``: the top-down training data pipeline, samples/s of one worker (one process calling the dataset's
  ``__getitem__``), on synthetic images of the demo (256x256, 1-3 people) with the demo config, and of COCO's
  size (640x480, 2-6 people) with ``configs/hrnet_w32_coco.py``: ours (the fast path) vs the same config with
  mmpose's components (``GenerateTarget`` + ``PackPoseInputs``, mmpose's transforms and ``CocoDataset``).
- ``model``: forward (eval, no grad) and forward + backward (sum of squared outputs) img/s of one published
  config per architecture at batch 8 vs mmpose's same architecture (its ``.mim`` config named in our config's
  "mmpose equivalent" comment; none for CPN, our stacked Hourglass and the 3D PoseNet). ``--model-configs all``
  times every ``configs/*.py``.
- ``train``: end-to-end training img/s of the demo config (its batch 32 and 2 loader workers; data loading,
  preprocessing, forward, backward, Adam step), ours vs the same config with mmpose's components, in rounds of
  ``--train-iters`` iterations each after draining the loaders' prefetched batches.
- ``inference``: ``MMPoseInferencer`` (one 640x480 image, whole-image box) latency, and ``inference_topdown``
  with 1 box (latency) and 8 boxes (one batched forward: ms per person) of ``configs/hrnet_w32_coco.py`` vs
  mmpose's HRNet-W32 config (random weights: the same compute).
- ``gpu_train``: ``tools/gpu_benchmark.py``'s recipes (with its own default arguments) as rows of this table when
  CUDA is available; otherwise one row saying why not.
"""
import sys

from pose_plugins.apis.benchmark import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
