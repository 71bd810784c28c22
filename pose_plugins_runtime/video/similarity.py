"""Pairwise similarity of people between two frames: box IoU and COCO's object keypoint similarity (OKS).

Note: N people in ``a`` (e.g. tracks), M people in ``b`` (the reference, e.g. detections), K keypoints.
"""
from typing import Optional, Tuple

import numpy as np

__all__ = ['COCO_SIGMAS', 'box_iou_matrix', 'oks_matrix']

#: COCO's per-keypoint OKS sigmas (K = 17, COCO keypoint order), as in pycocotools / xtcocotools and mmpose.
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0
COCO_SIGMAS.setflags(write=False)


def _check_boxes(boxes: np.ndarray, name: str) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'{name} must be an (N, 4) array [x1, y1, x2, y2], got shape {boxes.shape}')
    return boxes


def _check_mask(mask: np.ndarray, name: str, shape: Tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f'{name} must have shape {shape}, got shape {mask.shape}')
    return mask.astype(bool)


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU (N, M) float64 of boxes ``a`` (N, 4) and ``b`` (M, 4), ``x1, y1, x2, y2`` in pixels, with continuous
    coordinates (area ``(x2 - x1) * (y2 - y1)``, no ``+ 1`` as in mmpose's ``nms``). A pair whose union is empty
    (two degenerate boxes) has IoU 0."""
    a = _check_boxes(a, 'a')
    b = _check_boxes(b, 'b')
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def oks_matrix(kpts_a: np.ndarray, kpts_b: np.ndarray, *, areas: Optional[np.ndarray] = None,
               boxes: Optional[np.ndarray] = None, sigmas: Optional[np.ndarray] = None,
               visible: Optional[np.ndarray] = None, visible_a: Optional[np.ndarray] = None) -> np.ndarray:
    """OKS (N, M) float64 of poses ``kpts_a`` (N, K, 2) against reference poses ``kpts_b`` (M, K, 2), in pixels:
    ``mean_k exp(-d_k^2 / (2 * area * (2 * sigma_k)^2))`` over the keypoints ``visible`` (M, K) bool in the reference
    (and ``visible_a`` (N, K) in ``a`` when given; a non-finite keypoint is never visible). The scale is the
    reference's ``areas`` (M, ) in pixels^2, or the area of its ``boxes`` (M, 4) ``x1, y1, x2, y2``: exactly one
    of the two. ``sigmas`` (K, ) default to :data:`COCO_SIGMAS`.

    Follows COCO's ``computeOks`` (xtcocotools), and equals mmpose's ``oks_iou`` with both areas set to the
    reference's and ``vis_thr`` applied to the same masks. A pair with no keypoint visible has OKS 0 (mmpose's
    convention; COCO instead falls back to the distance to the reference box, which needs a ground-truth area).
    """
    kpts_a = np.asarray(kpts_a, dtype=np.float64)
    kpts_b = np.asarray(kpts_b, dtype=np.float64)
    if kpts_a.ndim != 3 or kpts_a.shape[2] != 2:
        raise ValueError(f'kpts_a must be an (N, K, 2) array, got shape {kpts_a.shape}')
    if kpts_b.ndim != 3 or kpts_b.shape[2] != 2 or kpts_b.shape[1] != kpts_a.shape[1]:
        raise ValueError(f'kpts_b must be an (M, K, 2) array with the K of kpts_a {kpts_a.shape}, '
                         f'got shape {kpts_b.shape}')
    (n, k), m = kpts_a.shape[:2], len(kpts_b)
    sigmas = COCO_SIGMAS if sigmas is None else np.asarray(sigmas, dtype=np.float64)
    if sigmas.shape != (k, ):
        raise ValueError(f'sigmas must have shape ({k}, ) (one per keypoint), got shape {sigmas.shape}')
    if (areas is None) == (boxes is None):
        raise ValueError('oks_matrix needs exactly one of areas or boxes (the reference scale), got '
                         f'areas={areas!r} and boxes={boxes!r}')
    if areas is None:
        boxes = _check_boxes(boxes, 'boxes')
        areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=-1)
    areas = np.asarray(areas, dtype=np.float64)
    if areas.shape != (m, ):
        raise ValueError(f'areas (or boxes) must give one area per reference pose, shape ({m}, ), '
                         f'got shape {areas.shape}')

    mask = np.isfinite(kpts_a).all(-1)[:, None, :] & np.isfinite(kpts_b).all(-1)[None, :, :]  # (N, M, K)
    if visible is not None:
        mask &= _check_mask(visible, 'visible', (m, k))[None, :, :]
    if visible_a is not None:
        mask &= _check_mask(visible_a, 'visible_a', (n, k))[:, None, :]

    d2 = np.sum((kpts_a[:, None] - kpts_b[None, :]) ** 2, axis=-1)  # (N, M, K)
    e = d2 / ((2 * sigmas) ** 2) / (areas[None, :, None] + np.spacing(1)) / 2
    num = mask.sum(-1)
    total = np.where(mask, np.exp(-np.where(mask, e, 0.0)), 0.0).sum(-1)
    return np.divide(total, num, out=np.zeros((n, m)), where=num > 0)
