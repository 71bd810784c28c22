"""Heatmap targets of a whole batch with tensor ops on the keypoints' device (what ``batch_encode`` runs).

A keypoint's 2-D target is separable, ``map[y, x] = rows[y] * cols[x]``: two 1-D profiles and an outer product.
They equal the per-sample encoders' to float32 rounding: within 1e-6 for the Gaussians (``exp`` per axis), 3 ulp
for CPN's (profiles normalised first). Shapes: B batch, N instances, K keypoints, L CPN levels, [W, H] map size.
"""
import mmap
import threading
import weakref
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from .gaussian import _initial_weights_and_mask

__all__ = ['gaussian_heatmaps_tensor', 'blurred_one_hot_heatmaps_tensor']


def _max_over_instances(maps: Tensor) -> Tensor:
    """(B, N, ...) maps >= 0 -> (B, ...), maximum over the instances (zeros when N = 0)."""
    if maps.shape[1] == 0:
        return maps.new_zeros(maps.shape[:1] + maps.shape[2:])
    return maps[:, 0] if maps.shape[1] == 1 else maps.amax(dim=1)


#: CPU outputs at least this large (bytes) come from :data:`CPU_TARGET_BUFFERS`.
POOLED_MIN_BYTES = 4 << 20


class CPUTargetBuffers:
    """Memory for large float32 CPU target batches, reused once a batch's tensor and all its views are freed.

    Fresh memory costs a page fault per 4 KiB page on every batch; these are anonymous mappings advised for
    transparent huge pages, pooled up to ``max_bytes`` (default 256 MiB), as PyTorch's CUDA caching allocator.
    """

    def __init__(self, *, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self._free: Dict[int, List[mmap.mmap]] = {}
        self._cached = 0
        self._lock = threading.Lock()

    def empty(self, shape: Sequence[int]) -> Tensor:
        """An uninitialised contiguous float32 CPU tensor of ``shape``."""
        shape = tuple(int(n) for n in shape)
        count = int(np.prod(shape))
        nbytes = max(count * 4, 1)
        with self._lock:
            bucket = self._free.get(nbytes)
            memory = bucket.pop() if bucket else None
            if memory is not None:
                self._cached -= nbytes
        if memory is None:
            memory = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            if hasattr(mmap, 'MADV_HUGEPAGE'):
                try:
                    memory.madvise(mmap.MADV_HUGEPAGE)
                except OSError:  # no transparent huge pages: ordinary pages
                    pass
        array = np.frombuffer(memory, dtype=np.float32, count=count).reshape(shape)
        weakref.finalize(array, self._release, memory, nbytes).atexit = False
        return torch.from_numpy(array)  # the storage keeps the array, and so the mapping, alive

    def _release(self, memory: mmap.mmap, nbytes: int) -> None:
        with self._lock:
            if self._cached + nbytes <= self.max_bytes:
                self._free.setdefault(nbytes, []).append(memory)
                self._cached += nbytes

    def clear(self) -> None:
        """Return the pooled memory to the system."""
        with self._lock:
            self._free.clear()
            self._cached = 0


#: The process's pool (:func:`_outer` on CPU, outputs of at least :data:`POOLED_MIN_BYTES`).
CPU_TARGET_BUFFERS = CPUTargetBuffers()


def _outer(rows: Tensor, cols: Tensor) -> Tensor:
    """``rows[..., y] * cols[..., x]`` of (B, N, ..., H) and (B, N, ..., W), max over N: (B, ..., H, W)."""
    if rows.shape[1] == 1:
        rows, cols = rows[:, 0, ..., :, None], cols[:, 0, ..., None, :]
        shape = torch.broadcast_shapes(rows.shape, cols.shape)
        pooled = (rows.device.type == 'cpu' and rows.dtype == cols.dtype == torch.float32
                  and not (rows.requires_grad or cols.requires_grad) and shape.numel() * 4 >= POOLED_MIN_BYTES)
        return torch.mul(rows, cols, out=CPU_TARGET_BUFFERS.empty(shape)) if pooled else rows * cols
    return _max_over_instances(rows[..., :, None] * cols[..., None, :])


def gaussian_heatmaps_tensor(*, heatmap_size: Tuple[int, int], keypoints: Tensor, keypoints_visible: Tensor,
                             sigma: float, unbiased: bool = False) -> Tuple[Tensor, Tensor]:
    """MSRA (``unbiased``: DARK) heatmaps (B, K, H, W) and weights (B, N, K), float32, of keypoints
    (B, N, K, 2) in heatmap pixels; windows, rounding and weights as the per-sample encoders."""
    W, H = heatmap_size
    radius = 3 * sigma
    device = keypoints.device
    finite = torch.isfinite(keypoints).all(dim=-1)
    if unbiased:
        centre = torch.where(finite[..., None], keypoints, 0)  # not drawn; a NaN would survive the 0 mask
        start, stop = keypoints - radius, keypoints + radius + 1
    else:
        mu = (torch.where(finite[..., None], keypoints, 0) + 0.5).long()  # truncation toward zero, as astype(int64)
        start = (mu.double() - radius).long()
        stop = (mu.double() + radius + 1).long()
    outside = (start[..., 0] >= W) | (start[..., 1] >= H) | (stop[..., 0] < 0) | (stop[..., 1] < 0) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    def profile(axis: int, length: int) -> Tensor:
        """(B, N, K, length): the 1-D factor along x (axis 0) or y (axis 1), 0 off the window."""
        pixels = torch.arange(length, device=device)
        if unbiased:
            grid = pixels.to(keypoints.dtype)
            return torch.exp(-(grid - centre[..., axis:axis + 1])**2 / (2 * sigma**2))
        # float32 window offsets, as the per-sample path
        offsets = np.arange(0, 2 * radius + 1, 1, dtype=np.float32)
        table = torch.from_numpy(np.exp(-(offsets - (2 * radius + 1) // 2)**2 / (2 * sigma**2))).to(device)
        cell = pixels - start[..., axis:axis + 1]
        inside = (cell >= 0) & (cell < len(offsets)) & (pixels < stop[..., axis:axis + 1])
        return table[cell.clamp(0, len(offsets) - 1)] * inside

    cols = profile(0, W) * draw[..., None]
    rows = profile(1, H)
    return _outer(rows.float(), cols.float()), keypoint_weights


def blurred_one_hot_heatmaps_tensor(*, heatmap_size: Tuple[int, int], keypoints: Tensor, keypoints_visible: Tensor,
                                    row_profiles: Tensor, col_profiles: Tensor) -> Tuple[Tensor, Tensor]:
    """CPN targets of a batch, every level at once: heatmaps (B, L, K, H, W) and weights (B, N, K),
    from keypoints (B, N, K, 2) in heatmap pixels and the per-level profile tables ``row_profiles`` (L, H, H) and
    ``col_profiles`` (L, W, W) (``[l, m]``: the level-``l`` blur of a 1 at ``m``)."""
    W, H = heatmap_size
    finite = torch.isfinite(keypoints).all(dim=-1)
    pixel = torch.floor(torch.where(finite[..., None], keypoints, -1)).long()
    outside = (pixel[..., 0] < 0) | (pixel[..., 0] >= W) | (pixel[..., 1] < 0) | (pixel[..., 1] >= H) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)
    rows = (row_profiles[:, pixel[..., 1].clamp(0, H - 1)] * draw[..., None]).permute(1, 2, 0, 3, 4)
    cols = col_profiles[:, pixel[..., 0].clamp(0, W - 1)].permute(1, 2, 0, 3, 4)
    # normalised profiles: the outer product is the normalised map
    ones = torch.ones((), dtype=rows.dtype, device=rows.device)
    rows = rows / torch.where(draw[:, :, None], rows.amax(dim=-1), ones)[..., None]
    cols = cols / cols.amax(dim=-1, keepdim=True)
    return _outer(rows, cols), keypoint_weights
