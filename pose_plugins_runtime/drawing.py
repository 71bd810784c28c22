"""Draw keypoints and skeletons on a BGR image with OpenCV."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['draw_poses']


def draw_poses(image: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
               skeleton_links: Sequence[Tuple[int, int]] = (), *, kpt_thr: float = 0.3,
               radius: int = 3, thickness: int = 2,
               colours: Optional[Sequence[Tuple[int, int, int]]] = None) -> np.ndarray:
    """A copy of BGR ``image`` (H, W, 3) uint8 with keypoints scoring above ``kpt_thr`` as dots and links between
    two such keypoints as lines, one colour per person (``colours``: a BGR triple per person; default a palette).
    ``keypoints``: (M, K, D) in image pixels (depth ignored);
    ``scores``: (M, K); ``skeleton_links``: keypoint index pairs; ``radius`` and ``thickness`` in pixels."""
    canvas = np.ascontiguousarray(image).copy()
    palette = [(0, 255, 0), (255, 128, 0), (0, 128, 255), (255, 0, 255), (0, 255, 255), (255, 255, 0)]
    for person, (points, person_scores) in enumerate(zip(np.asarray(keypoints), np.asarray(scores))):
        color = palette[person % len(palette)] if colours is None else tuple(colours[person])
        shown = (person_scores > kpt_thr) & np.isfinite(points[:, :2]).all(-1)
        xy = np.round(points[:, :2]).astype(int)
        for a, b in skeleton_links:
            if shown[a] and shown[b]:
                cv2.line(canvas, tuple(map(int, xy[a])), tuple(map(int, xy[b])), color, thickness, cv2.LINE_AA)
        for k in np.flatnonzero(shown):
            cv2.circle(canvas, tuple(map(int, xy[k])), radius, color, -1, cv2.LINE_AA)
    return canvas
