"""mmpose 1.3.2's top-down test preprocessing in numpy + OpenCV: box -> centre and scale, affine crop, normalise.

Each function reproduces one mmpose step with the same float arithmetic, so the crops are bit-identical to
mmpose's pipeline (a test compares them):

- ``GetBBoxCenterScale`` -> :func:`bbox_xyxy_to_center_scale` (mmpose's ``bbox_xyxy2cs``, padding 1.25);
- ``TopdownAffine`` (``use_udp=False``, no rotation) -> :func:`fix_aspect_ratio` + :func:`get_warp_matrix` +
  ``cv2.warpAffine(..., flags=cv2.INTER_LINEAR)`` in :func:`crop_boxes`;
- ``PoseDataPreprocessor`` -> BGR -> RGB swap, then ``(x - mean) / std`` in float32, channels first.

Note:
    - M: number of person boxes
    - [w, h]: the model's input size
"""
from typing import Sequence, Tuple

import cv2
import numpy as np

__all__ = ['bbox_xyxy_to_center_scale', 'fix_aspect_ratio', 'get_warp_matrix', 'crop_boxes']


def bbox_xyxy_to_center_scale(boxes: np.ndarray, padding: float = 1.25) -> Tuple[np.ndarray, np.ndarray]:
    """Box centres and padded sizes (mmpose's ``bbox_xyxy2cs``).

    Args:
        boxes (np.ndarray): (M, 4) ``x1, y1, x2, y2``.
        padding (float): Size multiplier.

    Returns:
        Tuple[np.ndarray, np.ndarray]: centres (M, 2) and scales (M, 2), dtype of ``boxes``.
    """
    scale = (boxes[..., 2:] - boxes[..., :2]) * padding
    center = (boxes[..., 2:] + boxes[..., :2]) * 0.5
    return center, scale


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Grow each (w, h) to the aspect ratio ``w / h`` of the input (mmpose's ``TopdownAffine._fix_aspect_ratio``).

    Args:
        scale (np.ndarray): (M, 2).
        aspect_ratio (float): Input width / height.

    Returns:
        np.ndarray: (M, 2).
    """
    w, h = np.hsplit(scale, [1])
    return np.where(w > h * aspect_ratio, np.hstack([w, w / aspect_ratio]), np.hstack([h * aspect_ratio, h]))


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    direction = a - b
    return b + np.r_[-direction[1], direction[0]]


def get_warp_matrix(center: np.ndarray, scale: np.ndarray, output_size: Tuple[int, int]) -> np.ndarray:
    """The 2x3 affine matrix taking the box (``center``, ``scale``) onto the ``output_size`` crop, as mmpose's
    ``get_warp_matrix`` with ``rot=0``, ``shift=(0, 0)`` (its three-point construction in float32).

    Args:
        center (np.ndarray): (2, ).
        scale (np.ndarray): (2, ) box size (w, h).
        output_size (Tuple[int, int]): (w, h).

    Returns:
        np.ndarray: (2, 3) float64 (``cv2.getAffineTransform``'s result).
    """
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
    """The model inputs of every box: crops, normalised, channels first; and each crop's centre and scale.

    Args:
        image (np.ndarray): (H, W, 3) uint8, BGR (``cv2.imread``).
        boxes (np.ndarray): (M, 4) ``x1, y1, x2, y2`` in image pixels.
        input_size (Tuple[int, int]): Model input (w, h).
        mean, std (Sequence[float]): Per channel, in the channel order after the optional swap.
        bgr_to_rgb (bool): Swap the channels first (mmpose's ``bgr_to_rgb``).
        padding (float): ``GetBBoxCenterScale`` padding.

    Returns:
        Tuple[np.ndarray, np.ndarray, np.ndarray]: inputs (M, 3, h, w) float32; centres (M, 2) and scales (M, 2)
        (aspect-fixed; mmpose's ``input_center`` / ``input_scale``).
    """
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
