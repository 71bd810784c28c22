"""Unnormalized Gaussian heatmap targets, generated for all instances and keypoints at once.

Two flavours, both with peak value 1 and ``sigma`` in heatmap pixels:

- :func:`generate_gaussian_heatmaps`: the "MSRA" target of Xiao et al., "Simple Baselines for Human Pose
  Estimation and Tracking", ECCV 2018 (https://arxiv.org/abs/1804.06208), also used by Sun et al., "Deep
  High-Resolution Representation Learning for Human Pose Estimation", CVPR 2019 (HRNet). The Gaussian is centred
  on the keypoint rounded to the nearest heatmap pixel and cut to a ``(2 * 3 sigma + 1)``-wide window.
- :func:`generate_unbiased_gaussian_heatmaps`: the DARK target of Zhang et al., "Distribution-Aware Coordinate
  Representation for Human Pose Estimation", CVPR 2020 (https://arxiv.org/abs/1910.06278), centred on the
  sub-pixel keypoint location and evaluated over the whole heatmap.

Both give the same numbers as mmpose 1.3.2's ``generate_gaussian_heatmaps`` /
``generate_unbiased_gaussian_heatmaps`` (same rounding, same window bounds, same float32 arithmetic, instances
combined by an element-wise maximum), but without Python loops over instances or keypoints.
"""
from typing import Tuple, Union

import numpy as np
from torch import Tensor

__all__ = ['generate_gaussian_heatmaps', 'generate_unbiased_gaussian_heatmaps']

Array = Union[np.ndarray, Tensor]


def _initial_weights_and_mask(keypoints_visible: Array, outside: Array) -> Tuple[Array, Array]:
    """Keypoint weights (the visibility, zeroed where a labelled keypoint's window misses the map; float32) and
    the mask of keypoints to draw, both (..., K) as the inputs (numpy arrays or tensors: the per-sample encode and
    the batched one of :mod:`pose_plugins.codecs.utils.batch_encode` share it)."""
    labelled = keypoints_visible >= 0.5
    draw = labelled & ~outside
    weights = keypoints_visible * ~(labelled & outside)  # visibilities are finite (checked): x * 1 = x, x * 0 = 0
    return (weights.float() if isinstance(weights, Tensor) else weights.astype(np.float32)), draw


def generate_gaussian_heatmaps(*, heatmap_size: Tuple[int, int], keypoints: np.ndarray,
                               keypoints_visible: np.ndarray, sigma: float) -> Tuple[np.ndarray, np.ndarray]:
    """Render the MSRA (SimpleBaseline / HRNet) Gaussian heatmaps of N instances.

    For each keypoint whose visibility is at least 0.5, a Gaussian ``exp(-(dx^2 + dy^2) / (2 sigma^2))`` is
    drawn over the ``S x S`` window, ``S = ceil(2 * 3 sigma + 1)``, whose centre cell
    ``c = floor((2 * 3 sigma + 1) / 2)`` (``= 3 sigma`` when that is an integer) lies on
    ``mu = int(keypoint + 0.5)`` (``int`` truncates toward zero, as numpy's ``astype(int64)``). Precisely, window
    cell ``i`` lies on heatmap pixel ``int(mu - 3 sigma) + i``, so for a non-integer ``3 sigma`` and
    ``mu < 3 sigma`` the truncation shifts the peak one pixel away from the border, exactly as in mmpose.
    The window spans heatmap pixels
    ``[int(mu - 3 sigma), int(mu + 3 sigma + 1))`` clipped to the map. A labelled keypoint whose window lies
    entirely outside the map gets weight 0; every other keypoint keeps its visibility as weight (so an invisible
    one keeps weight 0). A keypoint with a non-finite coordinate counts as outside the map. Instances are
    combined with an element-wise maximum.

    Note:
        - N: number of instances
        - K: number of keypoints
        - [W, H]: ``heatmap_size``

    Args:
        heatmap_size (Tuple[int, int]): Heatmap size [W, H].
        keypoints (np.ndarray): Keypoint coordinates in heatmap pixels, shape (N, K, 2).
        keypoints_visible (np.ndarray): Keypoint visibilities, shape (N, K).
        sigma (float): Gaussian standard deviation in heatmap pixels, > 0.

    Returns:
        Tuple[np.ndarray, np.ndarray]:
        - heatmaps (np.ndarray): float32, shape (K, H, W).
        - keypoint_weights (np.ndarray): float32, shape (N, K).
    """
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    radius = 3 * sigma

    # The window's Gaussian, identical for every keypoint: float32 offsets from the centre cell.
    offsets = np.arange(0, 2 * radius + 1, 1, dtype=np.float32)  # (S,)
    centre = (2 * radius + 1) // 2
    window = np.exp(-((offsets - centre)**2 + (offsets[:, None] - centre)**2) / (2 * sigma**2))  # (S, S)
    S = offsets.shape[0]

    finite = np.isfinite(keypoints).all(axis=-1)  # (N, K)
    mu = (np.where(finite[..., None], keypoints, 0) + 0.5).astype(np.int64)  # (N, K, 2), truncation toward zero
    start = (mu - radius).astype(np.int64)  # (N, K, 2): left, top
    stop = (mu + radius + 1).astype(np.int64)  # (N, K, 2): right, bottom (exclusive)
    outside = ((start[..., 0] >= W) | (start[..., 1] >= H) | (stop[..., 0] < 0) | (stop[..., 1] < 0)) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    heatmaps = np.zeros((N, K, H, W), dtype=np.float32)
    n_idx, k_idx = np.nonzero(draw)  # (M,) each: the M keypoints to draw
    cols = start[n_idx, k_idx, 0][:, None] + np.arange(S)  # (M, S) heatmap x of window column i
    rows = start[n_idx, k_idx, 1][:, None] + np.arange(S)  # (M, S) heatmap y of window row j
    col_ok = (cols >= 0) & (cols < W) & (cols < stop[n_idx, k_idx, 0][:, None])
    row_ok = (rows >= 0) & (rows < H) & (rows < stop[n_idx, k_idx, 1][:, None])
    m, j, i = np.nonzero(row_ok[:, :, None] & col_ok[:, None, :])  # every in-map window cell of every keypoint
    # Cells of one (instance, keypoint) are distinct, so plain assignment is exact; instances meet in the max.
    heatmaps[n_idx[m], k_idx[m], rows[m, j], cols[m, i]] = window[j, i]
    return heatmaps.max(axis=0, initial=0.0), keypoint_weights


def generate_unbiased_gaussian_heatmaps(*, heatmap_size: Tuple[int, int], keypoints: np.ndarray,
                                        keypoints_visible: np.ndarray,
                                        sigma: float) -> Tuple[np.ndarray, np.ndarray]:
    """Render the DARK (unbiased) Gaussian heatmaps of N instances.

    For each keypoint whose visibility is at least 0.5, ``exp(-((x - kx)^2 + (y - ky)^2) / (2 sigma^2))`` is
    evaluated over the whole heatmap at the sub-pixel location ``(kx, ky)`` (no rounding, no window cut, computed
    in the keypoints' float precision and stored as float32). A labelled keypoint with ``kx - 3 sigma >= W``,
    ``ky - 3 sigma >= H``, ``kx + 3 sigma + 1 < 0`` or ``ky + 3 sigma + 1 < 0`` is not drawn and gets weight 0;
    every other keypoint keeps its visibility as weight. A keypoint with a non-finite coordinate counts as outside
    the map. Instances are combined with an element-wise maximum.

    Shapes and arguments as :func:`generate_gaussian_heatmaps`: keypoints (N, K, 2) in heatmap pixels,
    visibilities (N, K); returns heatmaps, float32 (K, H, W), and keypoint weights, float32 (N, K).
    """
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    radius = 3 * sigma

    finite = np.isfinite(keypoints).all(axis=-1)  # (N, K)
    start = keypoints - radius  # (N, K, 2)
    stop = keypoints + radius + 1
    outside = ((start[..., 0] >= W) | (start[..., 1] >= H) | (stop[..., 0] < 0) | (stop[..., 1] < 0)) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    heatmaps = np.zeros((N, K, H, W), dtype=np.float32)
    centres = keypoints[draw]  # (M, 2)
    x = np.arange(0, W, 1, dtype=np.float32)  # (W,)
    y = np.arange(0, H, 1, dtype=np.float32)  # (H,)
    dx2 = (x[None, :] - centres[:, 0:1])**2  # (M, W)
    dy2 = (y[None, :] - centres[:, 1:2])**2  # (M, H)
    heatmaps[draw] = np.exp(-(dx2[:, None, :] + dy2[:, :, None]) / (2 * sigma**2))  # (M, H, W)
    return heatmaps.max(axis=0, initial=0.0), keypoint_weights
