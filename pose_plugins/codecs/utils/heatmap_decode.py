"""Keypoints from heatmaps, batched with tensor ops on any device: argmax, quarter-pixel refinement (SimpleBaseline,
https://arxiv.org/abs/1804.06208) and DARK (https://arxiv.org/abs/1910.06278), with the numbers of mmpose
1.3.2's ``get_heatmap_maximum``, ``refine_keypoints`` and ``refine_keypoints_dark``. Shapes: B, K, H, W.
"""
from typing import Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'flat_argmax', 'flat_index_to_xy', 'get_heatmap_maximum', 'refine_keypoints_quarter_offset',
    'dark_blur_kernel', 'blur_heatmaps', 'modulate_heatmaps', 'refine_keypoints_dark', 'decode_heatmaps'
]


Array = Union[np.ndarray, Tensor]


def _uses_numpy(heatmaps: Tensor) -> bool:
    """Whether to run the cheap decoding steps in numpy (zero-copy): CPU float tensors, where numpy's argmax and
    small ops are faster than torch's, but not while tracing (the tracer records torch ops only)."""
    if torch.jit.is_tracing():
        return False
    return heatmaps.device.type == 'cpu' and heatmaps.dtype in (torch.float32, torch.float64)


def _take(values: Array, index: Array) -> Array:
    if isinstance(values, np.ndarray):
        return np.take_along_axis(values, index, -1)
    return torch.gather(values, -1, index)


def _constant(values: list, like: Array) -> Array:
    if isinstance(like, np.ndarray):
        return np.array(values, dtype=np.int64)
    return torch.tensor(values, dtype=torch.int64, device=like.device)


def _float32(values: Array) -> Array:
    return values.astype(np.float32) if isinstance(values, np.ndarray) else values.float()


def _int64(values: Array) -> Array:
    return values.astype(np.int64) if isinstance(values, np.ndarray) else values.long()


def flat_argmax(flat: Tensor) -> Tensor:
    """Index (...) of the first maximum along the last dim of ``flat`` (..., M), as ``np.argmax``."""
    if _uses_numpy(flat):
        return torch.from_numpy(flat.detach().numpy().argmax(axis=-1))
    return flat.argmax(dim=-1)


def flat_index_to_xy(index: Array, width: int) -> Array:
    """Row-major flat indices (...) of maps ``width`` wide -> float32 ``(x, y)`` (..., 2)."""
    stack = np.stack if isinstance(index, np.ndarray) else torch.stack
    return _float32(stack((index % width, index // width), -1))


def get_heatmap_maximum(heatmaps: Array) -> Tuple[Array, Array]:
    """Float32 ``(x, y)`` (B, K, 2) and value (B, K) of the first maximum of each heatmap (B, K, H, W);
    ``(-1, -1)`` where it is <= 0, as mmpose. For numpy arrays or tensors."""
    B, K, H, W = heatmaps.shape
    flat = heatmaps.reshape(B, K, H * W)
    index = flat.argmax(-1)
    values = _take(flat, index[..., None])[..., 0]
    where = np.where if isinstance(heatmaps, np.ndarray) else torch.where
    locations = where((values > 0)[..., None], flat_index_to_xy(index, W), -1.0)
    return _float32(locations), values


def refine_keypoints_quarter_offset(keypoints: Array, heatmaps: Array) -> Array:
    """Integer maxima (B, K, 2) moved a quarter pixel toward the higher neighbour along x and y.

    mmpose's asymmetric conditions, kept for parity: x moves when ``1 < x < W - 1`` and ``0 < y < H``, y when
    ``1 < y < H - 1`` and ``0 < x < W`` (the HRNet code: ``1 < x < W - 1`` and ``1 < y < H - 1``). Float32 (B, K, 2).
    """
    xp = np if isinstance(heatmaps, np.ndarray) else torch
    B, K, H, W = heatmaps.shape
    xy = _int64(keypoints)
    steps = _constant([1, -1, W, -W], xy)
    index = xp.clip((xy[..., 1] * W + xy[..., 0])[..., None] + steps, 0, H * W - 1)
    right_left_below_above = _take(heatmaps.reshape(B, K, H * W), index)
    towards = right_left_below_above[..., 0::2] - right_left_below_above[..., 1::2]
    size = _constant([W, H], xy)
    ok = (xy > 1) & (xy < size - 1) & xp.flip((xy > 0) & (xy < size), (-1, ))
    return _float32(keypoints) + _float32(xp.sign(towards)) * ok * 0.25


def dark_blur_kernel(kernel_size: int) -> np.ndarray:
    """``cv2.getGaussianKernel(kernel_size, 0)``, float32 (kernel_size, ): the taps of mmpose's DARK blur
    (OpenCV's fixed tables for small sizes, else sigma ``0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8``)."""
    return cv2.getGaussianKernel(kernel_size, 0, ktype=cv2.CV_32F).reshape(-1)


def blur_heatmaps(heatmaps: Tensor, kernel_size: int) -> Tensor:
    """Zero-padded separable Gaussian blur of heatmaps (B, K, H, W) with OpenCV's taps: ``cv2.GaussianBlur``
    of the padded map, cropped (mmpose's DARK and tf-cpn's test-time blur), to float32 rounding."""
    K = int(heatmaps.shape[1])  # a Python int: traced, the depthwise kernels keep a constant shape (ONNX Conv)
    pad = kernel_size // 2
    kernel = torch.as_tensor(dark_blur_kernel(kernel_size), device=heatmaps.device).to(heatmaps.dtype)
    # depthwise and separable, rows then columns as OpenCV
    blurred = F.conv2d(heatmaps, kernel.view(1, 1, 1, -1).expand(K, 1, 1, kernel_size), padding=(0, pad), groups=K)
    return F.conv2d(blurred, kernel.view(1, 1, -1, 1).expand(K, 1, kernel_size, 1), padding=(pad, 0), groups=K)


def modulate_heatmaps(heatmaps: Tensor, kernel_size: int) -> Tensor:
    """DARK's modulation of heatmaps (B, K, H, W): :func:`blur_heatmaps`, rescaled to each map's maximum
    (mmpose's ``gaussian_blur``, to float32 rounding)."""
    blurred = blur_heatmaps(heatmaps, kernel_size)
    original_max = heatmaps.amax(dim=(-2, -1), keepdim=True)
    return blurred * (original_max / blurred.amax(dim=(-2, -1), keepdim=True))


def _blurred_neighbourhood(heatmaps: Tensor, x: Tensor, y: Tensor, kernel_size: int, reach: int) -> Tensor:
    """:func:`blur_heatmaps` at ``(y + dy, x + dx)``, ``|dx|, |dy| <= reach``, around integer x, y (B, K):
    (B, K, 2 reach + 1, 2 reach + 1), from a gathered patch and a banded matrix."""
    B, K, H, W = heatmaps.shape
    radius = kernel_size // 2
    half = reach + radius
    steps = torch.arange(-half, half + 1, device=heatmaps.device)
    rows = y[..., None] + steps
    cols = x[..., None] + steps
    inside = ((rows >= 0) & (rows < H))[..., :, None] & ((cols >= 0) & (cols < W))[..., None, :]
    index = rows.clamp(0, H - 1)[..., :, None] * W + cols.clamp(0, W - 1)[..., None, :]
    patch = torch.gather(heatmaps.reshape(B, K, H * W), 2, index.reshape(B, K, -1)).reshape(index.shape)
    patch = patch * inside
    kernel = torch.as_tensor(dark_blur_kernel(kernel_size), device=heatmaps.device).to(heatmaps.dtype)
    band = torch.zeros(2 * reach + 1, 2 * half + 1, dtype=heatmaps.dtype, device=heatmaps.device)
    for a in range(2 * reach + 1):  # 2 reach + 1 (5) rows of a constant matrix, not a loop over data
        band[a, a:a + kernel_size] = kernel
    # no matmul: the summation order, so the result, does not depend on the batch
    along_x = (patch[..., :, None, :] * band).sum(-1)
    return (band[:, :, None] * along_x[..., None, :, :]).sum(-2)


def refine_keypoints_dark(keypoints: Tensor, heatmaps: Tensor, blur_kernel_size: int) -> Tensor:
    """DARK refinement of integer maxima (B, K, 2) of raw heatmaps (B, K, H, W): one Newton step
    ``-H^-1 g`` on the log of the map modulated with ``blur_kernel_size`` (11 for sigma 2, 17 for sigma 3).

    As mmpose's ``refine_keypoints_dark`` (log clamped at 1e-10, moves only when ``1 < x < W - 2``,
    ``1 < y < H - 2`` and ``det H != 0``) to float32 rounding, but on the 5 x 5 blurred values around each maximum
    only, solved in closed form; the modulation's rescaling cancels unless the clamp acts. Float32 (B, K, 2).
    """
    H, W = heatmaps.shape[-2:]
    x, y = keypoints[..., 0].long(), keypoints[..., 1].long()
    ok = (x > 1) & (x < W - 2) & (y > 1) & (y < H - 2)
    near = _blurred_neighbourhood(heatmaps, x, y, blur_kernel_size, reach=2)
    tiny = ok & (near < 1e-10).flatten(-2).any(-1)  # maps where the clamp may act
    if bool(tiny.any()):
        maps = heatmaps[tiny][:, None]
        scale = torch.ones_like(near[..., 0, 0])
        scale[tiny] = (maps.amax(dim=(-2, -1)) / blur_heatmaps(maps, blur_kernel_size).amax(dim=(-2, -1)))[:, 0]
        near = near * scale[..., None, None]
    logs = near.clamp(min=1e-10).log()

    def at(dy: int, dx: int) -> Tensor:
        return logs[..., 2 + dy, 2 + dx]

    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = 0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2))
    dxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    dyy = 0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0))
    det = dxx * dyy - dxy**2
    ok = ok & (det != 0)
    safe_det = torch.where(ok, det, torch.ones_like(det))
    # -H^-1 g with H^-1 = [[dyy, -dxy], [-dxy, dxx]] / det
    offset = torch.stack((-(dyy * dx - dxy * dy) / safe_det, -(dxx * dy - dxy * dx) / safe_det), dim=-1)
    return keypoints.float() + torch.where(ok[..., None], offset, torch.zeros_like(offset)).float()


@torch.no_grad()
def decode_heatmaps(heatmaps: Tensor, *, unbiased: bool = False,
                    blur_kernel_size: int = 11) -> Tuple[Tensor, Tensor]:
    """Heatmaps (B, K, H, W) -> keypoints (B, K, 2) float32 in heatmap pixels (``(-1, -1)`` where the
    maximum is <= 0) and scores (B, K): argmax, then the quarter-pixel shift or (``unbiased``) DARK."""
    heatmaps = heatmaps.detach()
    maps = heatmaps.numpy() if _uses_numpy(heatmaps) else heatmaps
    keypoints, scores = get_heatmap_maximum(maps)
    if unbiased:
        keypoints = refine_keypoints_dark(torch.as_tensor(keypoints), heatmaps, blur_kernel_size)
    else:
        keypoints = refine_keypoints_quarter_offset(keypoints, maps)
    return torch.as_tensor(keypoints), torch.as_tensor(scores)
