"""Heatmap targets of a whole batch at once, with tensor ops on the keypoints' device (no Python loop over
samples, instances or keypoints): what :meth:`~pose_plugins.codecs.BaseHeatmapCodec.batch_encode` runs, so that a
data preprocessor can render a training batch's targets on the model's device instead of the data workers.

Both renderers use that a 2-D target of one keypoint is separable, ``map[y, x] = rows[y] * cols[x]``: a batch
costs two small 1-D profiles per keypoint and one outer product, instead of a window written cell by cell.

- :func:`gaussian_heatmaps_tensor`: :func:`~pose_plugins.codecs.utils.gaussian.generate_gaussian_heatmaps`
  (MSRA; same centre rounding, window bounds and weights) and its DARK variant
  :func:`~pose_plugins.codecs.utils.gaussian.generate_unbiased_gaussian_heatmaps`. They evaluate
  ``exp(-(dx^2 + dy^2) / (2 sigma^2))``; here it is ``exp(-dx^2 / (2 sigma^2)) * exp(-dy^2 / (2 sigma^2))``, equal
  up to float32 rounding: each ``exp`` is within 1 ulp, the product adds half an ulp and the per-sample path's
  float32 sum ``dx^2 + dy^2`` a relative error of ``2^-24`` in an exponent of at most 9 inside the 3-sigma window
  (at most ``(W^2 + H^2) / (2 sigma^2)`` over a DARK map, where the value has underflowed far below any
  tolerance), so the two differ by at most ``~12 * 2^-24 < 1e-6`` times the value, i.e. ``< 1e-6`` absolutely
  for values <= 1.
- :func:`blurred_one_hot_heatmaps_tensor`: CPN's blurred one-hot targets
  (:func:`~pose_plugins.codecs.blur_heatmap.generate_blurred_one_hot_heatmaps`). The 1-D profiles are read from
  tables of :func:`~pose_plugins.codecs.blur_heatmap.blurred_one_hot_profiles` (row ``m``: the profile of a 1 at
  ``m``), the same numbers as the per-sample path's. That path divides the product ``fl(r_i c_j)`` by the map's
  maximum, ``fl(max r * max c)`` (rounding is monotone); here each profile is divided by its own maximum first,
  ``fl(fl(r_i / max r) * fl(c_j / max c))``, which saves a pass over the output. Each side rounds three times
  (half an ulp each), so the two differ by at most 3 ulp, ``3 * 2^-24 < 2e-7`` relative: < 1e-6 for values
  <= 1, and exactly 1 at the peak on both.

On CPU a large batch (at least :data:`POOLED_MIN_BYTES`) is written into memory from :class:`CPUTargetBuffers`,
which reuses the memory of freed batches instead of faulting in fresh pages every step (CPN's targets: ~130 us a
sample instead of ~700-900 us on our CPU); it keeps at most 256 MiB (``CPU_TARGET_BUFFERS.clear()`` returns it).

Note:
    - B: batch size
    - N: instances per sample (1 in top-down)
    - K: keypoints
    - L: levels (kernel sizes) of the CPN targets
    - [W, H]: heatmap size
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
    """(B, N, ...) maps >= 0 combined over the instances by an element-wise maximum with 0 as initial value (the
    per-sample encoders' ``max(axis=0, initial=0.0)``): (B, ...)."""
    if maps.shape[1] == 0:
        return maps.new_zeros(maps.shape[:1] + maps.shape[2:])
    return maps[:, 0] if maps.shape[1] == 1 else maps.amax(dim=1)


#: CPU outputs at least this large (bytes) come from :data:`CPU_TARGET_BUFFERS`.
POOLED_MIN_BYTES = 4 << 20


class CPUTargetBuffers:
    """Memory for large float32 CPU target batches, reused once a batch's tensor (and every view of it) is freed.

    A training step renders a batch of targets of the same shape every iteration (CPN's 4 levels at 64x48 for 64
    samples: 53 MB). From the system allocator that is new memory each time: above glibc's mmap threshold it is
    mapped afresh and every first write of a 4 KiB page faults (~13k faults and the kernel zeroing 53 MB) -- on our
    2-core CPU ~530-900 us of a CPN sample's time, against ~110 us for the product itself. Here a buffer is an
    anonymous mapping advised for transparent huge pages (``MADV_HUGEPAGE`` where available: 512x fewer faults the
    first time), and when the numpy array behind a returned tensor is freed (which happens only after the tensor's
    storage, and so every view of it, is gone) its mapping goes back to a pool of at most ``max_bytes`` for the next
    batch of that size, as PyTorch's CUDA caching allocator keeps GPU memory. Returned tensors are ordinary,
    writable, contiguous CPU tensors whose contents are undefined until written.

    Args:
        max_bytes (int): The most memory kept for reuse. Defaults to 256 MiB.
    """

    def __init__(self, *, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self._free: Dict[int, List[mmap.mmap]] = {}
        self._cached = 0
        self._lock = threading.Lock()

    def empty(self, shape: Sequence[int]) -> Tensor:
        """An uninitialised float32 CPU tensor of ``shape`` (contiguous)."""
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
                except OSError:  # a kernel without transparent huge pages: ordinary pages, same values
                    pass
        array = np.frombuffer(memory, dtype=np.float32, count=count).reshape(shape)
        weakref.finalize(array, self._release, memory, nbytes).atexit = False
        return torch.from_numpy(array)  # the storage keeps the array, and so the mapping, alive

    def _release(self, memory: mmap.mmap, nbytes: int) -> None:
        """Called when a returned batch's array is freed: keep its mapping for reuse, or let it be unmapped."""
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
    """``rows[..., y] * cols[..., x]`` of (B, N, ..., H) rows and (B, N, ..., W) columns, combined over the
    instances (:func:`_max_over_instances`): (B, ..., H, W); for N = 1 in one pass over the output (a large one on
    CPU into :data:`CPU_TARGET_BUFFERS`)."""
    if rows.shape[1] == 1:
        rows, cols = rows[:, 0, ..., :, None], cols[:, 0, ..., None, :]
        shape = torch.broadcast_shapes(rows.shape, cols.shape)
        pooled = (rows.device.type == 'cpu' and rows.dtype == cols.dtype == torch.float32
                  and not (rows.requires_grad or cols.requires_grad) and shape.numel() * 4 >= POOLED_MIN_BYTES)
        return torch.mul(rows, cols, out=CPU_TARGET_BUFFERS.empty(shape)) if pooled else rows * cols
    return _max_over_instances(rows[..., :, None] * cols[..., None, :])


def gaussian_heatmaps_tensor(*, heatmap_size: Tuple[int, int], keypoints: Tensor, keypoints_visible: Tensor,
                             sigma: float, unbiased: bool = False) -> Tuple[Tensor, Tensor]:
    """MSRA (or, with ``unbiased``, DARK) Gaussian heatmaps of a batch, separably (see the module docstring).

    MSRA: a labelled keypoint (visibility >= 0.5) draws over the window ``[int(mu - 3 sigma), int(mu + 3 sigma +
    1))`` (``mu = int(keypoint + 0.5)``, ``int`` truncating toward zero), window cell ``i`` on pixel
    ``int(mu - 3 sigma) + i``, centre cell ``floor((2 * 3 sigma + 1) / 2)``; DARK: over the whole map around the
    sub-pixel keypoint. Weights and the outside rule are those of the per-sample functions.

    Args:
        heatmap_size (Tuple[int, int]): [W, H].
        keypoints (Tensor): Floating-point keypoints in heatmap pixels, (B, N, K, 2).
        keypoints_visible (Tensor): Visibilities, (B, N, K).
        sigma (float): Gaussian standard deviation in heatmap pixels.
        unbiased (bool): DARK targets. Defaults to False.

    Returns:
        Tuple[Tensor, Tensor]:
        - heatmaps (Tensor): float32, (B, K, H, W).
        - keypoint_weights (Tensor): float32, (B, N, K).
    """
    W, H = heatmap_size
    radius = 3 * sigma
    device = keypoints.device
    finite = torch.isfinite(keypoints).all(dim=-1)  # (B, N, K)
    if unbiased:
        centre = torch.where(finite[..., None], keypoints, 0)  # not drawn; a NaN would survive the 0 mask
        start, stop = keypoints - radius, keypoints + radius + 1
    else:
        mu = (torch.where(finite[..., None], keypoints, 0) + 0.5).long()  # truncation toward zero, as astype(int64)
        start = (mu.double() - radius).long()  # (B, N, K, 2): left, top
        stop = (mu.double() + radius + 1).long()  # right, bottom (exclusive)
    outside = (start[..., 0] >= W) | (start[..., 1] >= H) | (stop[..., 0] < 0) | (stop[..., 1] < 0) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    def profile(axis: int, length: int) -> Tensor:
        """(B, N, K, length): the Gaussian's 1-D factor along x (axis 0) or y (axis 1), 0 off the window."""
        pixels = torch.arange(length, device=device)
        if unbiased:  # in the keypoints' precision, as the per-sample path
            grid = pixels.to(keypoints.dtype)
            return torch.exp(-(grid - centre[..., axis:axis + 1])**2 / (2 * sigma**2))
        # the window's own float32 offsets, as the per-sample path: cell i at offset i - centre cell
        offsets = np.arange(0, 2 * radius + 1, 1, dtype=np.float32)
        table = torch.from_numpy(np.exp(-(offsets - (2 * radius + 1) // 2)**2 / (2 * sigma**2))).to(device)
        cell = pixels - start[..., axis:axis + 1]  # (B, N, K, length)
        inside = (cell >= 0) & (cell < len(offsets)) & (pixels < stop[..., axis:axis + 1])
        return table[cell.clamp(0, len(offsets) - 1)] * inside

    cols = profile(0, W) * draw[..., None]  # (B, N, K, W); keypoints not drawn: all zero
    rows = profile(1, H)  # (B, N, K, H)
    return _outer(rows.float(), cols.float()), keypoint_weights  # (B, K, H, W)


def blurred_one_hot_heatmaps_tensor(*, heatmap_size: Tuple[int, int], keypoints: Tensor, keypoints_visible: Tensor,
                                    row_profiles: Tensor, col_profiles: Tensor) -> Tuple[Tensor, Tensor]:
    """CPN's blurred one-hot targets of a batch, every level at once: the per-sample encode's to 3 float32 ulp.

    A labelled keypoint lights pixel ``(floor(x), floor(y))``; one outside the map (or non-finite) is not drawn
    and gets weight 0. Its level-``l`` map is ``rows[y] * cols[x]`` divided by its maximum.

    Args:
        heatmap_size (Tuple[int, int]): [W, H].
        keypoints (Tensor): Floating-point keypoints in heatmap pixels, (B, N, K, 2).
        keypoints_visible (Tensor): Visibilities, (B, N, K).
        row_profiles (Tensor): float32 (L, H, H): ``[l, m]`` the level-``l`` blur of a 1 at row ``m``.
        col_profiles (Tensor): float32 (L, W, W): the same along x.

    Returns:
        Tuple[Tensor, Tensor]:
        - heatmaps (Tensor): float32, (B, L, K, H, W), each drawn map peaking at 1.
        - keypoint_weights (Tensor): float32, (B, N, K).
    """
    W, H = heatmap_size
    finite = torch.isfinite(keypoints).all(dim=-1)  # (B, N, K)
    pixel = torch.floor(torch.where(finite[..., None], keypoints, -1)).long()  # (B, N, K, 2)
    outside = (pixel[..., 0] < 0) | (pixel[..., 0] >= W) | (pixel[..., 1] < 0) | (pixel[..., 1] >= H) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)
    # (B, N, L, K, H) and (B, N, L, K, W); keypoints not drawn: all-zero rows
    rows = (row_profiles[:, pixel[..., 1].clamp(0, H - 1)] * draw[..., None]).permute(1, 2, 0, 3, 4)
    cols = col_profiles[:, pixel[..., 0].clamp(0, W - 1)].permute(1, 2, 0, 3, 4)
    # each profile divided by its own maximum, so that the outer product is already the normalised map: one pass
    # over the output instead of a product and a division (not drawn: 0 / 1)
    ones = torch.ones((), dtype=rows.dtype, device=rows.device)
    rows = rows / torch.where(draw[:, :, None], rows.amax(dim=-1), ones)[..., None]
    cols = cols / cols.amax(dim=-1, keepdim=True)
    return _outer(rows, cols), keypoint_weights  # (B, L, K, H, W)
