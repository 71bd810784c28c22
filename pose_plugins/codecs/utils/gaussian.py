"""Unnormalized Gaussian heatmaps (peak 1, ``sigma`` in heatmap pixels), MSRA (https://arxiv.org/abs/1804.06208)
and DARK (https://arxiv.org/abs/1910.06278): mmpose 1.3.2's functions of the same names, without Python loops.
"""
from typing import Tuple, Union

import numpy as np
from torch import Tensor

__all__ = ['generate_gaussian_heatmaps', 'generate_unbiased_gaussian_heatmaps']

Array = Union[np.ndarray, Tensor]


def _initial_weights_and_mask(keypoints_visible: Array, outside: Array) -> Tuple[Array, Array]:
    """Float32 weights (the visibility; 0 for a labelled keypoint outside) and draw mask, (..., K)."""
    labelled = keypoints_visible >= 0.5
    draw = labelled & ~outside
    weights = keypoints_visible * ~(labelled & outside)  # visibilities are finite (checked): x * 1 = x, x * 0 = 0
    return (weights.float() if isinstance(weights, Tensor) else weights.astype(np.float32)), draw


def generate_gaussian_heatmaps(*, heatmap_size: Tuple[int, int], keypoints: np.ndarray,
                               keypoints_visible: np.ndarray, sigma: float) -> Tuple[np.ndarray, np.ndarray]:
    """MSRA heatmaps (K, H, W) and weights (N, K), float32, of keypoints (N, K, 2) in heatmap pixels.

    A labelled keypoint (visibility >= 0.5) draws ``exp(-(dx^2 + dy^2) / (2 sigma^2))`` around ``mu = int(kpt + 0.5)``
    over pixels ``[int(mu - 3 sigma), int(mu + 3 sigma + 1))``, as mmpose; one whose window misses the map, or
    non-finite, gets weight 0, others their visibility. Instances combine by maximum.
    """
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    radius = 3 * sigma

    offsets = np.arange(0, 2 * radius + 1, 1, dtype=np.float32)
    centre = (2 * radius + 1) // 2
    window = np.exp(-((offsets - centre)**2 + (offsets[:, None] - centre)**2) / (2 * sigma**2))
    S = offsets.shape[0]

    finite = np.isfinite(keypoints).all(axis=-1)
    mu = (np.where(finite[..., None], keypoints, 0) + 0.5).astype(np.int64)
    start = (mu - radius).astype(np.int64)
    stop = (mu + radius + 1).astype(np.int64)
    outside = ((start[..., 0] >= W) | (start[..., 1] >= H) | (stop[..., 0] < 0) | (stop[..., 1] < 0)) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    heatmaps = np.zeros((N, K, H, W), dtype=np.float32)
    n_idx, k_idx = np.nonzero(draw)
    cols = start[n_idx, k_idx, 0][:, None] + np.arange(S)
    rows = start[n_idx, k_idx, 1][:, None] + np.arange(S)
    col_ok = (cols >= 0) & (cols < W) & (cols < stop[n_idx, k_idx, 0][:, None])
    row_ok = (rows >= 0) & (rows < H) & (rows < stop[n_idx, k_idx, 1][:, None])
    m, j, i = np.nonzero(row_ok[:, :, None] & col_ok[:, None, :])
    # cells of one keypoint are distinct: assignment is exact
    heatmaps[n_idx[m], k_idx[m], rows[m, j], cols[m, i]] = window[j, i]
    return heatmaps.max(axis=0, initial=0.0), keypoint_weights


def generate_unbiased_gaussian_heatmaps(*, heatmap_size: Tuple[int, int], keypoints: np.ndarray,
                                        keypoints_visible: np.ndarray,
                                        sigma: float) -> Tuple[np.ndarray, np.ndarray]:
    """DARK heatmaps (K, H, W) and weights (N, K), float32: the Gaussian at the sub-pixel keypoint
    over the whole map. A labelled keypoint ``k`` whose ``[k - 3 sigma, k + 3 sigma + 1)`` misses the map, or
    non-finite, is not drawn and gets weight 0; see :func:`generate_gaussian_heatmaps`."""
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    radius = 3 * sigma

    finite = np.isfinite(keypoints).all(axis=-1)
    start = keypoints - radius
    stop = keypoints + radius + 1
    outside = ((start[..., 0] >= W) | (start[..., 1] >= H) | (stop[..., 0] < 0) | (stop[..., 1] < 0)) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    heatmaps = np.zeros((N, K, H, W), dtype=np.float32)
    centres = keypoints[draw]
    x = np.arange(0, W, 1, dtype=np.float32)
    y = np.arange(0, H, 1, dtype=np.float32)
    dx2 = (x[None, :] - centres[:, 0:1])**2
    dy2 = (y[None, :] - centres[:, 1:2])**2
    heatmaps[draw] = np.exp(-(dx2[:, None, :] + dy2[:, :, None]) / (2 * sigma**2))
    return heatmaps.max(axis=0, initial=0.0), keypoint_weights
