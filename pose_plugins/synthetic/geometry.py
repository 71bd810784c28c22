"""Plane and camera geometry of the synthetic people: rotations, image bounds, box IoU, the pinhole camera."""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Tuple

import numpy as np

if TYPE_CHECKING:
    from .config import SyntheticCocoConfig

__all__ = ['rotation', 'in_image', 'box_iou', 'pinhole_camera', 'camera_points']


def rotation(angle: np.ndarray) -> np.ndarray:
    """Rotation matrices for angles in radians: (...,) -> (..., 2, 2), acting on column vectors (x, y)."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)


def in_image(points: np.ndarray, image_size: Tuple[int, int]) -> np.ndarray:
    """Which points (..., 2) lie in the image, pixel centres ``0 .. size - 1``: -> bool (...)."""
    upper = np.asarray(image_size, dtype=np.float64) - 1.0
    return np.all((points >= 0.0) & (points <= upper), axis=-1)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box (4,) with boxes (M, 4): -> (M,)."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0.0, None), axis=1)
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / (np.prod(box[2:] - box[:2]) + areas - inter + 1e-9)


def pinhole_camera(cfg: SyntheticCocoConfig) -> Tuple[np.ndarray, np.ndarray]:
    """Pinhole camera of every image: focal lengths ``(fx, fy)`` (2,) and principal point ``(cx, cy)`` (2,)."""
    width, height = cfg.image_size
    return np.full(2, cfg.focal_length * width), np.array([width / 2.0, height / 2.0])


def camera_points(person: Dict, cfg: SyntheticCocoConfig) -> np.ndarray:
    """Back-project a lifted person's unrounded image keypoints at their depths: -> (K, 3) X, Y, Z in mm."""
    focal, centre = pinhole_camera(cfg)
    z = person['root_depth'] + person['depth']
    return np.concatenate([(person['keypoints'] - centre) * z[:, None] / focal, z[:, None]], axis=1)
