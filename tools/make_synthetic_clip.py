"""Write a short synthetic clip of people walking, turning, crossing and occluding each other, drawn like the
synthetic COCO images, with its ground truth beside it (OUT_tracks.json, OUT_detections.jsonl).

    python tools/make_synthetic_clip.py data/clips/clip0.mp4 --seed 0
    python tools/make_synthetic_clip.py /tmp/c.mp4 --frames 96 --people 4 --fps 30 --contact-sheet /tmp/c.jpg

The same seed and options give the same ground truth. Other options: ``pose_plugins.synthetic.SyntheticClipConfig``.
"""
import sys

from pose_plugins.apis.make_synthetic_clip import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
