"""Keypoints from heatmaps: maximum finding, quarter-pixel refinement and DARK refinement, batched on torch.

Every function works on a whole batch ``(B, K, H, W)`` with tensor ops only (no Python loop over samples or
keypoints) and on any device. The numbers are those of mmpose 1.3.2's numpy ``get_heatmap_maximum``,
``refine_keypoints`` and ``refine_keypoints_dark`` (same tie-breaking, same border conditions, same float32
arithmetic), so :class:`pose_plugins.codecs.MSRAHeatmap` decodes a single sample through this module too.

Note (symbols of every shape below):
    - B: batch size
    - K: number of keypoints
    - H, W: heatmap height and width

References:
    - Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018
      (https://arxiv.org/abs/1804.06208): argmax plus a quarter-pixel shift toward the higher neighbour.
    - Zhang et al., "Distribution-Aware Coordinate Representation for Human Pose Estimation", CVPR 2020
      (https://arxiv.org/abs/1910.06278): Gaussian modulation of the heatmap, then one Newton step on its
      logarithm (second-order Taylor expansion at the maximum).
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
    """Whether to run the cheap steps of decoding in numpy: CPU float32/float64 tensors (a zero-copy view).

    On the CPU numpy is faster for them: its SIMD argmax is several times faster than torch's (64 x 17 x 3072
    floats, one thread: about 0.6 ms vs 5 ms) and each small operation costs about 1 us instead of torch's
    5-20 us of dispatch. On other devices the tensors stay where they are, and so they do while ``torch.jit`` /
    ``torch.onnx.export`` traces the decoding (the tracer records torch operations only; the torch path gives
    the same numbers).
    """
    if torch.jit.is_tracing():
        return False
    return heatmaps.device.type == 'cpu' and heatmaps.dtype in (torch.float32, torch.float64)


def _take(values: Array, index: Array) -> Array:
    """``values`` gathered along the last axis at ``index`` (``np.take_along_axis`` / ``torch.gather``)."""
    if isinstance(values, np.ndarray):
        return np.take_along_axis(values, index, -1)
    return torch.gather(values, -1, index)


def _constant(values: list, like: Array) -> Array:
    """A small int64 constant of the same kind (and device) as ``like``."""
    if isinstance(like, np.ndarray):
        return np.array(values, dtype=np.int64)
    return torch.tensor(values, dtype=torch.int64, device=like.device)


def _float32(values: Array) -> Array:
    return values.astype(np.float32) if isinstance(values, np.ndarray) else values.float()


def _int64(values: Array) -> Array:
    return values.astype(np.int64) if isinstance(values, np.ndarray) else values.long()


def flat_argmax(flat: Tensor) -> Tensor:
    """Index of the first maximum along the last dim (as ``np.argmax``; ``torch.argmax`` breaks ties the same way),
    through numpy for CPU tensors (see :func:`_uses_numpy`).

    Args:
        flat (Tensor): (..., M).

    Returns:
        Tensor: int64 indices, (...), on ``flat``'s device.
    """
    if _uses_numpy(flat):
        return torch.from_numpy(flat.detach().numpy().argmax(axis=-1))
    return flat.argmax(dim=-1)


def flat_index_to_xy(index: Array, width: int) -> Array:
    """Row-major flat pixel indices of maps ``width`` wide -> float32 ``(x, y)``.

    Args:
        index (np.ndarray | Tensor): int64, (...).
        width (int): Map width W.

    Returns:
        np.ndarray | Tensor: float32, (..., 2), the kind of ``index``.
    """
    stack = np.stack if isinstance(index, np.ndarray) else torch.stack
    return _float32(stack((index % width, index // width), -1))


def get_heatmap_maximum(heatmaps: Array) -> Tuple[Array, Array]:
    """Location and value of each heatmap's maximum (the first one in row-major order on ties).

    As mmpose, a map whose maximum is ``<= 0`` gets the location ``(-1, -1)``. Written once for numpy arrays and
    torch tensors (the result is of the input's kind).

    Args:
        heatmaps (np.ndarray | Tensor): (B, K, H, W).

    Returns:
        tuple:
        - locations: float32 ``(x, y)`` in heatmap pixels, (B, K, 2).
        - values: The maxima, (B, K), dtype of ``heatmaps``.
    """
    B, K, H, W = heatmaps.shape
    flat = heatmaps.reshape(B, K, H * W)
    index = flat.argmax(-1)  # (B, K): the first maximum on ties in numpy and in torch
    values = _take(flat, index[..., None])[..., 0]
    where = np.where if isinstance(heatmaps, np.ndarray) else torch.where
    locations = where((values > 0)[..., None], flat_index_to_xy(index, W), -1.0)
    return _float32(locations), values


def refine_keypoints_quarter_offset(keypoints: Array, heatmaps: Array) -> Array:
    """Shift each integer maximum a quarter pixel toward its higher neighbour along x and along y.

    Conditions of mmpose's ``refine_keypoints`` (not symmetric, kept for parity): x moves when
    ``1 < x < W - 1 and 0 < y < H``; y moves when ``1 < y < H - 1 and 0 < x < W``; equal neighbours do not move.
    The original HRNet code refines only when ``1 < x < W - 1 and 1 < y < H - 1``. Written once for numpy arrays
    and torch tensors (both arguments of one kind; the result is of that kind).

    Args:
        keypoints (np.ndarray | Tensor): Integer-valued float ``(x, y)`` from :func:`get_heatmap_maximum`,
            (B, K, 2).
        heatmaps (np.ndarray | Tensor): (B, K, H, W).

    Returns:
        np.ndarray | Tensor: Refined keypoints, float32, (B, K, 2). The input is not modified.
    """
    xp = np if isinstance(heatmaps, np.ndarray) else torch
    B, K, H, W = heatmaps.shape
    xy = _int64(keypoints)  # (B, K, 2)
    steps = _constant([1, -1, W, -W], xy)  # right, left, below, above
    index = xp.clip((xy[..., 1] * W + xy[..., 0])[..., None] + steps, 0, H * W - 1)  # (B, K, 4), read in range
    right_left_below_above = _take(heatmaps.reshape(B, K, H * W), index)
    towards = right_left_below_above[..., 0::2] - right_left_below_above[..., 1::2]  # (B, K, 2): x, y
    size = _constant([W, H], xy)
    # along x: 1 < x < W - 1 and 0 < y < H; along y: 1 < y < H - 1 and 0 < x < W (the other axis, flipped)
    ok = (xy > 1) & (xy < size - 1) & xp.flip((xy > 0) & (xy < size), (-1, ))
    return _float32(keypoints) + _float32(xp.sign(towards)) * ok * 0.25


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


def blur_heatmaps(heatmaps: Tensor, kernel_size: int) -> Tensor:
    """Separable Gaussian blur with OpenCV's taps (:func:`dark_blur_kernel`) and zero padding.

    Equals ``cv2.GaussianBlur`` of the map zero-padded by ``kernel_size // 2`` and cropped back (what mmpose's
    DARK ``gaussian_blur`` and tf-cpn's test-time blur do) up to float32 rounding of the sums.

    Args:
        heatmaps (Tensor): (B, K, H, W).
        kernel_size (int): Odd kernel size >= 1.

    Returns:
        Tensor: (B, K, H, W), same dtype and device. The input is not modified.
    """
    K = int(heatmaps.shape[1])  # a Python int: traced, the depthwise kernels keep a constant shape (ONNX Conv)
    pad = kernel_size // 2
    kernel = torch.as_tensor(dark_blur_kernel(kernel_size), device=heatmaps.device).to(heatmaps.dtype)
    # Depthwise (one group per keypoint channel; much faster on CPU than a (B * K, 1, H, W) batch) and separable,
    # rows then columns as OpenCV; the kernel is symmetric, so correlation equals convolution.
    blurred = F.conv2d(heatmaps, kernel.view(1, 1, 1, -1).expand(K, 1, 1, kernel_size), padding=(0, pad), groups=K)
    return F.conv2d(blurred, kernel.view(1, 1, -1, 1).expand(K, 1, kernel_size, 1), padding=(pad, 0), groups=K)


def modulate_heatmaps(heatmaps: Tensor, kernel_size: int) -> Tensor:
    """DARK's distribution modulation: :func:`blur_heatmaps`, rescaled to each map's original maximum.

    Equals mmpose's ``gaussian_blur`` (zero-pad, ``cv2.GaussianBlur``, crop, multiply by ``original max /
    blurred max``) up to float32 rounding of the convolution sums.

    Args:
        heatmaps (Tensor): (B, K, H, W).
        kernel_size (int): Odd blur kernel size >= 1.

    Returns:
        Tensor: Modulated heatmaps, (B, K, H, W). The input is not modified.
    """
    blurred = blur_heatmaps(heatmaps, kernel_size)
    original_max = heatmaps.amax(dim=(-2, -1), keepdim=True)
    return blurred * (original_max / blurred.amax(dim=(-2, -1), keepdim=True))


def _blurred_neighbourhood(heatmaps: Tensor, x: Tensor, y: Tensor, kernel_size: int, reach: int) -> Tensor:
    """:func:`blur_heatmaps` evaluated only at ``(y + dy, x + dx)`` for ``|dx|, |dy| <= reach``.

    A blurred pixel depends on the ``kernel_size`` window around it, so the ``(2 reach + 1)^2`` values come from
    the ``(2 (reach + r) + 1)^2`` patch around each point (``r = kernel_size // 2``; zero outside the map, as the
    zero-padded blur): the patch is gathered and filtered along x, then y, by a small banded matrix. The same
    sums as the full blur in another order, so equal to it up to float32 rounding.

    Args:
        heatmaps (Tensor): (B, K, H, W).
        x (Tensor): Integer column per map, (B, K).
        y (Tensor): Integer row per map, (B, K).
        kernel_size (int): Odd blur kernel size.
        reach (int): Half-size of the neighbourhood.

    Returns:
        Tensor: (B, K, 2 reach + 1, 2 reach + 1), row offset first, ``[..., reach, reach]`` at ``(y, x)``.
    """
    B, K, H, W = heatmaps.shape
    radius = kernel_size // 2
    half = reach + radius
    steps = torch.arange(-half, half + 1, device=heatmaps.device)  # (S, ), S = 2 half + 1
    rows = y[..., None] + steps  # (B, K, S)
    cols = x[..., None] + steps
    inside = ((rows >= 0) & (rows < H))[..., :, None] & ((cols >= 0) & (cols < W))[..., None, :]  # (B, K, S, S)
    index = rows.clamp(0, H - 1)[..., :, None] * W + cols.clamp(0, W - 1)[..., None, :]
    patch = torch.gather(heatmaps.reshape(B, K, H * W), 2, index.reshape(B, K, -1)).reshape(index.shape)
    patch = patch * inside
    kernel = torch.as_tensor(dark_blur_kernel(kernel_size), device=heatmaps.device).to(heatmaps.dtype)
    # band[a, p] = kernel[p - a]: output offset a - reach reads patch offsets a - reach - r ... a - reach + r.
    band = torch.zeros(2 * reach + 1, 2 * half + 1, dtype=heatmaps.dtype, device=heatmaps.device)
    for a in range(2 * reach + 1):  # 2 reach + 1 (5) rows of a constant matrix, not a loop over data
        band[a, a:a + kernel_size] = kernel
    # Elementwise products and sums rather than a batched matmul: each output is then summed in the same order
    # whatever the batch size, so a sample decodes identically alone or in a batch.
    along_x = (patch[..., :, None, :] * band).sum(-1)  # (B, K, S, 2 reach + 1)
    return (band[:, :, None] * along_x[..., None, :, :]).sum(-2)  # (B, K, 2 reach + 1, 2 reach + 1)


def refine_keypoints_dark(keypoints: Tensor, heatmaps: Tensor, blur_kernel_size: int) -> Tensor:
    """DARK refinement: one Newton step ``-H^-1 g`` on the log of the modulated heatmap at each maximum.

    As mmpose's ``refine_keypoints_dark``: the modulated map (:func:`modulate_heatmaps`) is clamped at 1e-10
    before the log, derivatives are central differences (second ones with step 2), a keypoint moves only when
    ``1 < x < W - 2``, ``1 < y < H - 2`` and the Hessian's determinant is non-zero. The 2x2 system is solved in
    closed form (mmpose calls ``np.linalg.inv``).

    Only the 5 x 5 blurred values around each maximum are computed (:func:`_blurred_neighbourhood`), not the
    whole blurred map. The modulation's rescaling by ``s = original max / blurred max`` adds ``log s`` to every
    log value and cancels in the differences, unless the clamp at 1e-10 acts. It cannot act where every read
    blurred value ``b`` is >= 1e-10: then ``s >= 1`` (a blur with taps summing to 1 of values <= the original
    maximum stays <= it) and ``s b >= 1e-10``. For maps where some read value is below 1e-10, ``s`` is computed
    from their full blur (those maps only), so the result is mmpose's in every case, up to float32 rounding.

    Args:
        keypoints (Tensor): Integer-valued float ``(x, y)`` from :func:`get_heatmap_maximum`, (B, K, 2).
        heatmaps (Tensor): Raw (not yet modulated) heatmaps, (B, K, H, W).
        blur_kernel_size (int): Odd modulation kernel size; it should match the training sigma
            (11 for sigma 2, 17 for sigma 3).

    Returns:
        Tensor: Refined keypoints, float32, (B, K, 2). The input is not modified.
    """
    H, W = heatmaps.shape[-2:]
    x, y = keypoints[..., 0].long(), keypoints[..., 1].long()
    ok = (x > 1) & (x < W - 2) & (y > 1) & (y < H - 2)
    near = _blurred_neighbourhood(heatmaps, x, y, blur_kernel_size, reach=2)  # (B, K, 5, 5), [2, 2] at (y, x)
    tiny = ok & (near < 1e-10).flatten(-2).any(-1)  # (B, K): maps where the clamp may act
    if bool(tiny.any()):
        maps = heatmaps[tiny][:, None]  # (M, 1, H, W): only the maps where the clamp may act
        scale = torch.ones_like(near[..., 0, 0])  # (B, K)
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
    """Heatmaps to keypoints in heatmap pixels: argmax, then quarter-pixel or (``unbiased``) DARK refinement.

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
    maps = heatmaps.numpy() if _uses_numpy(heatmaps) else heatmaps  # the same code, numpy or torch
    keypoints, scores = get_heatmap_maximum(maps)
    if unbiased:
        keypoints = refine_keypoints_dark(torch.as_tensor(keypoints), heatmaps, blur_kernel_size)
    else:
        keypoints = refine_keypoints_quarter_offset(keypoints, maps)
    return torch.as_tensor(keypoints), torch.as_tensor(scores)
