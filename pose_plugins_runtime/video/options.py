"""The command-line flags that every pose-on-video command shares (``tools/infer.py`` and
``python -m pose_plugins_runtime``): the frames, the detections file, carried boxes, tracking and smoothing."""
from __future__ import annotations

import argparse

__all__ = ['add_video_options']


def add_video_options(group: argparse._ActionsContainer) -> None:
    """Add ``--sequence``, ``--det-file``, ``--redetect-every``, ``--no-track``, ``--smooth``, ``--min-cutoff``,
    ``--beta``, ``--max-frames`` and ``--no-progress`` to a parser or an argument group."""
    group.add_argument('--sequence', action='store_true', help='take a folder of images as the frames of a video')
    group.add_argument('--det-file', help='boxes per frame: JSON lines {"frame": i, "boxes": [[x1, y1, x2, y2(, '
                       'score)], ...]}')
    group.add_argument('--redetect-every', type=int, default=1, metavar='N',
                       help='boxes from the detector every N frames, carried from the poses in between')
    group.add_argument('--no-track', action='store_true', help='no identities (track_id null)')
    group.add_argument('--smooth', action='store_true', help='One-Euro filter per track (keypoints, mesh params)')
    group.add_argument('--min-cutoff', type=float, default=1.0, help='One-Euro minimum cutoff, Hz (default 1.0)')
    group.add_argument('--beta', type=float, default=0.1, help='One-Euro speed coefficient, per pixel/s (default 0.1)')
    group.add_argument('--max-frames', type=int, help='stop after this many frames')
    group.add_argument('--no-progress', action='store_true', help='no progress bar')
