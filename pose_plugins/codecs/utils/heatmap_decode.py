"""Keypoints from heatmaps: maximum finding, quarter-pixel refinement and DARK refinement, batched on torch.

Every function works on a whole batch ``(B, K, H, W)`` with tensor ops only (no Python loop over samples or
keypoints) and on any device. The numbers are those of mmpose 1.3.2's numpy ``get_heatmap_maximum``,
``refine_keypoints`` and ``refine_keypoints_dark`` (same tie-breaking, same border conditions, same float32
arithmetic), so :class:`pose_plugins.codecs.MSRAHeatmap` decodes a single sample through this module too.

References:
    - Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018
      (https://arxiv.org/abs/1804.06208): argmax plus a quarter-pixel shift toward the higher neighbour.
    - Zhang et al., "Distribution-Aware Coordinate Representation for Human Pose Estimation", CVPR 2020
      (https://arxiv.org/abs/1910.06278): Gaussian modulation of the heatmap, then one Newton step on its
      logarithm (second-order Taylor expansion at the maximum).
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'get_heatmap_maximum', 'refine_keypoints_quarter_offset', 'dark_blur_kernel', 'modulate_heatmaps',
    'refine_keypoints_dark', 'decode_heatmaps'
]


def _gather(maps: Tensor, x: Tensor, y: Tensor, offsets: Sequence[Tuple[int, int]]) -> Tensor:
    """Values of ``maps`` at ``(y + dy, x + dx)`` for every ``(dy, dx)`` in ``offsets``.

    Positions are clamped into the map, so every read is in range; callers mask the results of keypoints whose
    neighbourhood leaves the map.

    Args:
        maps (Tensor): (B, K, H, W).
        x (Tensor): Integer column per keypoint, (B, K).
        y (Tensor): Integer row per keypoint, (B, K).
        offsets (Sequence[Tuple[int, int]]): P offsets ``(dy, dx)``.

    Returns:
        Tensor: (B, K, P).
    """
    B, K, H, W = maps.shape
    steps = torch.tensor(offsets, dtype=torch.long, device=maps.device)  # (P, 2)
    rows = (y[..., None] + steps[:, 0]).clamp(0, H - 1)  # (B, K, P)
    cols = (x[..., None] + steps[:, 1]).clamp(0, W - 1)
    return torch.gather(maps.reshape(B, K, H * W), 2, rows * W + cols)


def get_heatmap_maximum(heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
    """Location and value of each heatmap's maximum (the first one in row-major order on ties).

    As mmpose, a map whose maximum is ``<= 0`` gets the location ``(-1, -1)``.

    Note:
        - B: batch size
        - K: number of keypoints
        - H, W: heatmap height and width

    Args:
        heatmaps (Tensor): (B, K, H, W).

    Returns:
        Tuple[Tensor, Tensor]:
        - locations (Tensor): float32 ``(x, y)`` in heatmap pixels, (B, K, 2).
        - values (Tensor): The maxima, (B, K), dtype of ``heatmaps``.
    """
    B, K, H, W = heatmaps.shape
    flat = heatmaps.reshape(B, K, H * W)
    values = flat.amax(dim=-1)
    index = flat.argmax(dim=-1)  # the first maximum on ties, as np.argmax (torch.max(dim) promises no order)
    locations = torch.stack((index % W, torch.div(index, W, rounding_mode='floor')), dim=-1).float()
    locations = torch.where((values > 0)[..., None], locations, torch.full_like(locations, -1.0))
    return locations, values


def refine_keypoints_quarter_offset(keypoints: Tensor, heatmaps: Tensor) -> Tensor:
    """Shift each integer maximum a quarter pixel toward its higher neighbour along x and along y.

    Conditions of mmpose's ``refine_keypoints`` (not symmetric, kept for parity): x moves when
    ``1 < x < W - 1 and 0 < y < H``; y moves when ``1 < y < H - 1 and 0 < x < W``; equal neighbours do not move.
    The original HRNet code refines only when ``1 < x < W - 1 and 1 < y < H - 1``.

    Note:
        - B: batch size
        - K: number of keypoints
        - H, W: heatmap height and width

    Args:
        keypoints (Tensor): Integer-valued float ``(x, y)`` from :func:`get_heatmap_maximum`, (B, K, 2).
        heatmaps (Tensor): (B, K, H, W).

    Returns:
        Tensor: Refined keypoints, float32, (B, K, 2). The input is not modified.
    """
    H, W = heatmaps.shape[-2:]
    x, y = keypoints[..., 0].long(), keypoints[..., 1].long()
    right, left, below, above = _gather(heatmaps, x, y, ((0, 1), (0, -1), (1, 0), (-1, 0))).unbind(-1)
    x_ok = (x > 1) & (x < W - 1) & (y > 0) & (y < H)
    y_ok = (y > 1) & (y < H - 1) & (x > 0) & (x < W)
    zero = torch.zeros((), dtype=heatmaps.dtype, device=heatmaps.device)
    step = torch.stack((torch.where(x_ok, right - left, zero), torch.where(y_ok, below - above, zero)), dim=-1)
    return keypoints.float() + torch.sign(step).float() * 0.25


def dark_blur_kernel(kernel_size: int) -> np.ndarray:
    """The 1-D kernel of ``cv2.GaussianBlur(img, (kernel_size, kernel_size), 0)``, which mmpose's DARK uses.

    Taken from OpenCV itself (``cv2.getGaussianKernel(kernel_size, 0)``) so it follows the installed OpenCV's
    rule: fixed binomial-like tables for small odd sizes (up to 7, or 9 in OpenCV >= 4.5), otherwise
    ``sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8`` (sigma 2 for size 11, about 3 for 17), normalized to
    sum 1.

    Args:
        kernel_size (int): Odd size >= 1.

    Returns:
        np.ndarray: float32, (kernel_size,).
    """
    return cv2.getGaussianKernel(kernel_size, 0, ktype=cv2.CV_32F).reshape(-1)


def modulate_heatmaps(heatmaps: Tensor, kernel_size: int) -> Tensor:
    """DARK's distribution modulation: Gaussian blur with zero padding, rescaled to each map's original maximum.

    Equals mmpose's ``gaussian_blur`` (zero-pad by ``kernel_size // 2``, ``cv2.GaussianBlur``, crop, multiply by
    ``original max / blurred max``) up to float32 rounding of the convolution sums.

    Note:
        - B: batch size
        - K: number of keypoints
        - H, W: heatmap height and width

    Args:
        heatmaps (Tensor): (B, K, H, W).
        kernel_size (int): Odd blur kernel size >= 1.

    Returns:
        Tensor: Modulated heatmaps, (B, K, H, W). The input is not modified.
    """
    B, K, H, W = heatmaps.shape
    pad = kernel_size // 2
    kernel = torch.as_tensor(dark_blur_kernel(kernel_size), device=heatmaps.device).to(heatmaps.dtype)
    # Depthwise (one group per keypoint channel; much faster on CPU than a (B * K, 1, H, W) batch) and separable,
    # rows then columns as OpenCV; the kernel is symmetric, so correlation equals convolution.
    row_kernel = kernel.view(1, 1, 1, kernel_size).expand(K, 1, 1, kernel_size)
    col_kernel = kernel.view(1, 1, kernel_size, 1).expand(K, 1, kernel_size, 1)
    blurred = F.conv2d(heatmaps, row_kernel, padding=(0, pad), groups=K)
    blurred = F.conv2d(blurred, col_kernel, padding=(pad, 0), groups=K)
    original_max = heatmaps.amax(dim=(-2, -1), keepdim=True)
    return blurred * (original_max / blurred.amax(dim=(-2, -1), keepdim=True))


def refine_keypoints_dark(keypoints: Tensor, heatmaps: Tensor, blur_kernel_size: int) -> Tensor:
    """DARK refinement: one Newton step ``-H^-1 g`` on the log of the modulated heatmap at each maximum.

    As mmpose's ``refine_keypoints_dark``: the modulated map is clamped at 1e-10 before the log, derivatives are
    central differences (second ones with step 2), a keypoint moves only when ``1 < x < W - 2``,
    ``1 < y < H - 2`` and the Hessian's determinant is non-zero. The 2x2 system is solved in closed form
    (mmpose calls ``np.linalg.inv``; the results agree to float32 rounding).

    Note:
        - B: batch size
        - K: number of keypoints
        - H, W: heatmap height and width

    Args:
        keypoints (Tensor): Integer-valued float ``(x, y)`` from :func:`get_heatmap_maximum`, (B, K, 2).
        heatmaps (Tensor): Raw (not yet modulated) heatmaps, (B, K, H, W).
        blur_kernel_size (int): Odd modulation kernel size; it should match the training sigma
            (11 for sigma 2, 17 for sigma 3).

    Returns:
        Tensor: Refined keypoints, float32, (B, K, 2). The input is not modified.
    """
    H, W = heatmaps.shape[-2:]
    modulated = modulate_heatmaps(heatmaps, blur_kernel_size)
    x, y = keypoints[..., 0].long(), keypoints[..., 1].long()
    offsets = ((0, 0), (0, 1), (0, -1), (0, 2), (0, -2), (1, 0), (-1, 0), (2, 0), (-2, 0), (1, 1), (-1, 1),
               (1, -1), (-1, -1))
    (c, x1, x_1, x2, x_2, y1, y_1, y2, y_2, x1y1, x1y_1, x_1y1,
     x_1y_1) = _gather(modulated, x, y, offsets).clamp(min=1e-10).log().unbind(-1)  # log only where it is read
    dx = 0.5 * (x1 - x_1)
    dy = 0.5 * (y1 - y_1)
    dxx = 0.25 * (x2 - 2 * c + x_2)
    dxy = 0.25 * (x1y1 - x1y_1 - x_1y1 + x_1y_1)
    dyy = 0.25 * (y2 - 2 * c + y_2)
    det = dxx * dyy - dxy**2
    ok = (x > 1) & (x < W - 2) & (y > 1) & (y < H - 2) & (det != 0)
    safe_det = torch.where(ok, det, torch.ones_like(det))
    # -H^-1 g with H^-1 = [[dyy, -dxy], [-dxy, dxx]] / det
    offset = torch.stack((-(dyy * dx - dxy * dy) / safe_det, -(dxx * dy - dxy * dx) / safe_det), dim=-1)
    return keypoints.float() + torch.where(ok[..., None], offset, torch.zeros_like(offset)).float()


@torch.no_grad()
def decode_heatmaps(heatmaps: Tensor, *, unbiased: bool = False,
                    blur_kernel_size: int = 11) -> Tuple[Tensor, Tensor]:
    """Heatmaps to keypoints in heatmap pixels: argmax, then quarter-pixel or (``unbiased``) DARK refinement.

    Note:
        - B: batch size
        - K: number of keypoints
        - H, W: heatmap height and width

    Args:
        heatmaps (Tensor): (B, K, H, W). Not modified; gradients are not tracked.
        unbiased (bool): Use DARK refinement instead of the quarter-pixel shift.
        blur_kernel_size (int): Odd DARK modulation kernel size (only read when ``unbiased``).

    Returns:
        Tuple[Tensor, Tensor]:
        - keypoints (Tensor): float32 ``(x, y)`` in heatmap pixels, (B, K, 2); ``(-1, -1)`` (unrefined) where the
          map's maximum is ``<= 0``.
        - scores (Tensor): Each map's maximum, (B, K), dtype of ``heatmaps``.
    """
    heatmaps = heatmaps.detach()
    keypoints, scores = get_heatmap_maximum(heatmaps)
    if unbiased:
        keypoints = refine_keypoints_dark(keypoints, heatmaps, blur_kernel_size)
    else:
        keypoints = refine_keypoints_quarter_offset(keypoints, heatmaps)
    return keypoints, scores
