"""Tracking and keypoint metrics of pose on video (MOTA, IDF1, ID switches, keypoint error, jitter) of one or more
predictions files (JSON lines, one per processed frame) against a clip's ground truth (<stem>_tracks.json).

    python tools/eval_video.py clip_tracks.json raw.jsonl smoothed.jsonl
    python tools/eval_video.py clip_tracks.json smoothed.jsonl --iou-thr 0.5 --json metrics.json

One table row per predictions file; --json writes the metrics too (a path that exists is refused). A frame missing
from a predictions file counts as one without predictions. The metrics' definitions:
``pose_plugins.evaluation.video_metrics.evaluate_tracking``.
"""
import sys

from pose_plugins.apis.eval_video import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
