"""Write a synthetic COCO person-keypoints dataset (mmpose's ``data/coco`` layout) for tests, demos and benchmarks.

    python tools/make_synthetic_coco.py --out-dir data/synthetic_coco --num-train 1000 --num-val 100 --seed 0
    python tools/make_synthetic_coco.py --out-dir /tmp/hard --image-size 320 240 --occlusion-prob 0.5 \\
        --back-facing-prob 0.2 --marker-radius 0

Every field of ``pose_plugins.synthetic.SyntheticCocoConfig`` is an option (``--image-size W H``,
``--people-per-image MIN MAX``, ``--num-degenerate-annotations N``, ``--side-colours`` ...); see ``--help``.
The same seed and options give byte-identical files. Point a COCO config at the output with
``data_root=OUT/`` (and ``bbox_file=OUT/person_detection_results/val_gt_boxes.json`` for GT-box evaluation).
"""
import sys

from pose_plugins.apis.make_synthetic_coco import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
