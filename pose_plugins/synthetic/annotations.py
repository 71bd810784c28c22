"""COCO annotation fields of a drawn person (visibility flags, box, visible-silhouette polygons and area,
``keypoints_3d``) and of the degenerate annotations that mmpose's top-down loader must skip."""
from __future__ import annotations

from typing import Dict, List, Union

import cv2
import numpy as np

from .coco_format import NUM_KEYPOINTS
from .config import SyntheticCocoConfig
from .geometry import camera_points, in_image

__all__ = ['person_annotation', 'degenerate_annotation']


def person_annotation(person: Dict, person_id: int, owner: np.ndarray, mask: np.ndarray,
                cfg: SyntheticCocoConfig) -> Dict:
    """COCO fields of one drawn person: ``keypoints`` (K * 3), ``num_keypoints``, ``bbox`` (xywh), ``area``,
    ``iscrowd``, ``segmentation``, and with ``with_3d`` ``keypoints_3d`` (K * 3, camera frame, mm)."""
    width, height = cfg.image_size
    kpts = person['keypoints']
    inside = in_image(kpts, cfg.image_size)
    pixels = np.round(np.clip(kpts, 0.0, np.array([width - 1.0, height - 1.0]))).astype(np.int64)
    on_top = owner[pixels[:, 1], pixels[:, 0]] == person_id
    visibility = np.where(inside, np.where(on_top, 2, 1), 0)
    if person['back_facing']:
        visibility[:3] = np.minimum(visibility[:3], 1)
    labelled = visibility > 0

    ys, xs = np.nonzero(mask)
    low, high = kpts[labelled].min(0), kpts[labelled].max(0)
    if len(xs):
        low = np.minimum(low, np.array([xs.min(), ys.min()], dtype=np.float64))
        high = np.maximum(high, np.array([xs.max(), ys.max()], dtype=np.float64) + 1.0)
    # whole-pixel corners, so that x + w is exact and holds every (2-decimal) keypoint
    low = np.maximum(np.floor(low), 0.0)
    high = np.minimum(np.ceil(high), np.array([width, height], dtype=np.float64))
    bbox = [float(v) for v in (low[0], low[1], high[0] - low[0], high[1] - low[1])]

    visible = (owner == person_id).astype(np.uint8)
    area = float(np.count_nonzero(visible))
    contours, _ = cv2.findContours(visible, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = [cv2.approxPolyDP(c, 1.0, True).reshape(-1).astype(float).tolist() for c in contours]
    polygons = [p for p in polygons if len(p) >= 6]
    if not polygons or area == 0.0:  # hidden entirely: fall back to the box
        x, y, w, h = bbox
        polygons = [[x, y, x + w, y, x + w, y + h, x, y + h]]
        area = max(area, 0.5 * w * h)

    keypoints = np.concatenate([np.where(labelled[:, None], np.round(kpts, 2), 0.0), visibility[:, None]], 1)
    fields = dict(keypoints=_json_numbers(keypoints), num_keypoints=int(np.count_nonzero(labelled)), bbox=bbox,
                  area=area, iscrowd=0, segmentation=polygons)
    if cfg.with_3d:
        fields['keypoints_3d'] = _json_numbers(np.round(camera_points(person, cfg), 4))
    return fields


def _json_numbers(values: np.ndarray) -> List[Union[int, float]]:
    """Flatten to a list of JSON numbers, integral values written as ints."""
    return [int(v) if v == int(v) else float(v) for v in values.reshape(-1).tolist()]


def degenerate_annotation(kind: str, rng: np.random.Generator, cfg: SyntheticCocoConfig) -> Dict:
    """A COCO annotation that mmpose's top-down loader must skip (``num_keypoints == 0``)."""
    width, height = cfg.image_size
    x, y = float(round(rng.uniform(0, width - 1), 2)), float(round(rng.uniform(0, height - 1), 2))
    if kind == 'zero_area':
        w = h = 0.0
    else:  # 'no_keypoints'
        w = float(round(rng.uniform(0.1, 0.5) * (width - x), 2))
        h = float(round(rng.uniform(0.1, 0.5) * (height - y), 2))
    fields = dict(keypoints=[0] * (3 * NUM_KEYPOINTS), num_keypoints=0, bbox=[x, y, w, h],
                  area=float(round(0.5 * w * h, 2)), iscrowd=0,
                  segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]])
    if cfg.with_3d:
        fields['keypoints_3d'] = [0] * (3 * NUM_KEYPOINTS)
    return fields
