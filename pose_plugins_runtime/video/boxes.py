"""Where the person boxes of a frame come from: a detections file, the whole image, or each track's last pose.

A box provider is a callable ``provider(frame) -> (M, 5)`` float32 ``x1, y1, x2, y2, score`` in image pixels; a
detector (an mmdet model, see ``pose_plugins.inference``) is one too. Pose-carried boxes come from
:func:`boxes_from_keypoints` and are chosen per frame by the loop (``pose_plugins_runtime.video.loop``).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from .json_lines import read_frame_lines
from .sources import Frame

__all__ = ['DetectionsFile', 'WholeImage', 'boxes_from_keypoints', 'check_boxes']


def check_boxes(value: object, where: str) -> np.ndarray:
    """(M, 5) float32 boxes from a list of ``[x1, y1, x2, y2(, score)]`` (score 1.0 when absent).

    Raises:
        ValueError: naming ``where``, when the boxes are not finite (M, 4) / (M, 5) numbers with x2 > x1, y2 > y1.
    """
    if isinstance(value, (list, tuple)):  # a score of 1.0 for boxes without one
        value = [list(box) + [1.0] if isinstance(box, (list, tuple)) and len(box) == 4 else box for box in value]
    try:
        boxes = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(f'{where}: boxes must be a list of [x1, y1, x2, y2(, score)] numbers ({err})') from err
    if boxes.size == 0:
        return np.zeros((0, 5), np.float32)
    if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
        raise ValueError(f'{where}: boxes must be [x1, y1, x2, y2(, score)] per box, got shape {boxes.shape}')
    if not np.isfinite(boxes).all() or (boxes[:, 2] <= boxes[:, 0]).any() or (boxes[:, 3] <= boxes[:, 1]).any():
        raise ValueError(f'{where}: boxes must be finite with x2 > x1 and y2 > y1, got {boxes.tolist()}')
    if boxes.shape[1] == 4:  # an (M, 4) array
        boxes = np.concatenate([boxes, np.ones((len(boxes), 1), np.float32)], axis=1)
    return boxes


class DetectionsFile:
    """Boxes per frame from a JSON-lines file, one object per line: ``{"frame": INDEX, "boxes": [[x1, y1, x2, y2(,
    score)], ...]}`` (frame indices 0-based, in source order). A frame without a line has no people.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: naming the file and line, for a line that is not such an object or a frame listed twice.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._boxes: Dict[int, np.ndarray] = {}
        for where, record in read_frame_lines(path):
            if 'boxes' not in record:
                raise ValueError(f"{where}: field 'boxes' is missing; expected {{\"frame\": INDEX, \"boxes\": "
                                 f"[[x1, y1, x2, y2], ...]}}")
            self._boxes[record['frame']] = check_boxes(record['boxes'], where)

    def __call__(self, frame: Frame) -> np.ndarray:
        return self._boxes.get(frame.index, np.zeros((0, 5), np.float32))


class WholeImage:
    """One box covering the whole frame (a single person filling the picture)."""

    def __call__(self, frame: Frame) -> np.ndarray:
        height, width = frame.image.shape[:2]
        return np.array([[0.0, 0.0, width, height, 1.0]], np.float32)


def boxes_from_keypoints(keypoints: np.ndarray, scores: np.ndarray, *, score_thr: float = 0.3,
                         padding: float = 1.2, min_keypoints: int = 3) -> np.ndarray:
    """Person boxes (M, 4) ``x1, y1, x2, y2`` around the keypoints (M, K, 2+) scoring above ``score_thr`` (M, K),
    grown ``padding`` times about their centre; a person with fewer than ``min_keypoints`` such keypoints gets a
    row of NaN. The model's own crop padding comes on top, as for a detector's box."""
    keypoints = np.asarray(keypoints, dtype=np.float64)[..., :2]
    shown = (np.asarray(scores) > score_thr) & np.isfinite(keypoints).all(-1)
    low = np.where(shown[..., None], keypoints, np.inf).min(1)
    high = np.where(shown[..., None], keypoints, -np.inf).max(1)
    center = (low + high) / 2.0
    half = np.maximum((high - low) / 2.0 * padding, 1.0)  # a straight line of keypoints still gets an area
    boxes = np.concatenate([center - half, center + half], axis=1)
    boxes[shown.sum(1) < min_keypoints] = np.nan
    return boxes
