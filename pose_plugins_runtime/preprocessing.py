"""mmpose 1.3.2's top-down test preprocessing in numpy + OpenCV, bit-identical to its ``GetBBoxCenterScale``,
``TopdownAffine`` (no UDP, no rotation) and ``PoseDataPreprocessor``. Shapes: M boxes, [w, h] input size.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

__all__ = ['bbox_xyxy_to_center_scale', 'fix_aspect_ratio', 'get_warp_matrix', 'crop_boxes']


def bbox_xyxy_to_center_scale(boxes: np.ndarray, padding: float = 1.25) -> Tuple[np.ndarray, np.ndarray]:
    """Centres (M, 2) and padded sizes (M, 2) of boxes (M, 4) ``x1, y1, x2, y2`` (mmpose's ``bbox_xyxy2cs``)."""
    scale = (boxes[..., 2:] - boxes[..., :2]) * padding
    center = (boxes[..., 2:] + boxes[..., :2]) * 0.5
    return center, scale


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Sizes (M, 2) grown to the input's ``w / h`` (mmpose's ``TopdownAffine._fix_aspect_ratio``)."""
    w, h = np.hsplit(scale, [1])
    return np.where(w > h * aspect_ratio, np.hstack([w, w / aspect_ratio]), np.hstack([h * aspect_ratio, h]))


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    direction = a - b
    return b + np.r_[-direction[1], direction[0]]


def get_warp_matrix(center: np.ndarray, scale: np.ndarray, output_size: Tuple[int, int]) -> np.ndarray:
    """The (2, 3) affine matrix taking the box (``center``, ``scale``: (2, )) onto the ``output_size`` crop,
    as mmpose's ``get_warp_matrix`` with no rotation or shift."""
    dst_w, dst_h = output_size
    src = np.zeros((3, 2), dtype=np.float32)
    src[0, :] = center + scale * np.array([0., 0.])
    src[1, :] = center + np.array([scale[0] * -0.5, 0.]) + scale * np.array([0., 0.])
    dst = np.zeros((3, 2), dtype=np.float32)
    dst[0, :] = [dst_w * 0.5, dst_h * 0.5]
    dst[1, :] = np.array([dst_w * 0.5, dst_h * 0.5]) + np.array([dst_w * -0.5, 0.])
    src[2, :] = _third_point(src[0, :], src[1, :])
    dst[2, :] = _third_point(dst[0, :], dst[1, :])
    return cv2.getAffineTransform(np.float32(src), np.float32(dst))


def crop_boxes(image: np.ndarray, boxes: np.ndarray, *, input_size: Tuple[int, int], mean: Sequence[float],
               std: Sequence[float], bgr_to_rgb: bool,
               padding: float = 1.25) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model inputs (M, 3, h, w) float32 of boxes (M, 4) in a BGR uint8 image, with each crop's centre (M, 2)
    and aspect-fixed scale (M, 2) (mmpose's ``input_center`` / ``input_scale``). ``mean`` and ``std`` are per
    channel, after the optional ``bgr_to_rgb`` swap."""
    w, h = input_size
    center, scale = bbox_xyxy_to_center_scale(boxes, padding)
    scale = fix_aspect_ratio(scale, aspect_ratio=w / h)
    mean = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    crops = np.empty((len(boxes), 3, h, w), dtype=np.float32)
    for i in range(len(boxes)):  # one warp per person box (OpenCV's warpAffine takes one matrix)
        crop = cv2.warpAffine(image, get_warp_matrix(center[i], scale[i], (w, h)), (int(w), int(h)),
                              flags=cv2.INTER_LINEAR)
        if bgr_to_rgb:
            crop = crop[..., ::-1]
        crops[i] = (crop.transpose(2, 0, 1).astype(np.float32) - mean) / std
    return crops, center, scale
