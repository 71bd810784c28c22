"""CPN's blurred one-hot heatmap codec: Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation",
CVPR 2018 (https://arxiv.org/abs/1711.07319), following the authors' tf-cpn code.
"""
import math
from numbers import Integral
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from pose_plugins.registry import KEYPOINT_CODECS
from .base_heatmap_codec import BaseHeatmapCodec, check_odd_kernel_size
from .utils.batch_encode import blurred_one_hot_heatmaps_tensor
from .utils.gaussian import _initial_weights_and_mask
from .utils.heatmap_decode import blur_heatmaps, dark_blur_kernel, flat_argmax, flat_index_to_xy

__all__ = ['CPNBlurHeatmap', 'blurred_one_hot_profiles', 'generate_blurred_one_hot_heatmaps', 'decode_second_maximum']


def _reflect101(index: np.ndarray, length: int) -> np.ndarray:
    """Indices folded into ``[0, length)`` as OpenCV's ``BORDER_REFLECT_101``."""
    if length == 1:
        return np.zeros_like(index)
    period = 2 * (length - 1)
    folded = np.mod(index, period)
    return np.where(folded < length, folded, period - folded)


def blurred_one_hot_profiles(positions: np.ndarray, length: int, kernel: np.ndarray) -> np.ndarray:
    """1-D ``cv2`` filtering (``BORDER_REFLECT_101``) of one-hot vectors with their 1 at ``positions``
    (M, ), in closed form: float32 (M, ``length``). ``kernel``: symmetric float32 taps (k, ), k odd."""
    radius = len(kernel) // 2
    sources = _reflect101(np.arange(length)[:, None] + np.arange(len(kernel))[None, :] - radius, length)
    hits = sources[None] == np.asarray(positions)[:, None, None]
    return np.where(hits, kernel, np.float32(0)).sum(axis=-1, dtype=np.float32)


def generate_blurred_one_hot_heatmaps(*, heatmap_size: Tuple[int, int], keypoints: np.ndarray,
                                      keypoints_visible: np.ndarray,
                                      kernel_sizes: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """tf-cpn's targets (L, K, H, W) and weights (N, K), float32, for L ``kernel_sizes``.

    A labelled keypoint (N, K, 2) lights pixel ``(floor(x), floor(y))`` (outside or non-finite: not drawn, weight 0);
    each map is ``cv2.GaussianBlur(map, (k, k), 0)`` over its maximum; instances combine by maximum.
    """
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    finite = np.isfinite(keypoints).all(axis=-1)
    pixel = np.floor(np.where(finite[..., None], keypoints, -1)).astype(np.int64)
    outside = (pixel[..., 0] < 0) | (pixel[..., 0] >= W) | (pixel[..., 1] < 0) | (pixel[..., 1] >= H) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    heatmaps = np.zeros((len(kernel_sizes), N, K, H, W), dtype=np.float32)
    drawn = pixel[draw]
    for level, kernel_size in enumerate(kernel_sizes):
        kernel = dark_blur_kernel(kernel_size)
        rows = blurred_one_hot_profiles(drawn[:, 1], H, kernel)
        cols = blurred_one_hot_profiles(drawn[:, 0], W, kernel)
        blurred = rows[:, :, None] * cols[:, None, :]
        heatmaps[level][draw] = blurred / blurred.max(axis=(1, 2), keepdims=True)
    return heatmaps.max(axis=1, initial=0.0), keypoint_weights


@torch.no_grad()
def decode_second_maximum(heatmaps: Tensor, *, blur_kernel_size: int, delta: float = 0.25) -> Tuple[Tensor, Tensor]:
    """tf-cpn's decoding of heatmaps (B, K, H, W): blur, step ``delta`` pixels from the maximum ``m``
    toward the second one. Keypoints (B, K, 2): float32 pixel indices (not centred); scores (B, K): raw map at ``m``."""
    heatmaps = heatmaps.detach()
    B, K, H, W = heatmaps.shape
    flat = blur_heatmaps(heatmaps, blur_kernel_size).reshape(B, K, H * W)
    first = flat_argmax(flat)
    second = flat_argmax(flat.scatter(-1, first[..., None], -math.inf))
    peak = flat_index_to_xy(first, W)
    towards = flat_index_to_xy(second, W) - peak
    length = towards.norm(dim=-1, keepdim=True)
    shift = torch.where(length > 1e-3, delta * towards / length.clamp(min=1e-3), torch.zeros_like(towards))
    keypoints = peak + shift  # both maxima lie in the map: no clip (tf-cpn clips)
    scores = torch.gather(heatmaps.reshape(B, K, H * W), 2, first[..., None])[..., 0]
    return keypoints, scores


@KEYPOINT_CODECS.register_module()
class CPNBlurHeatmap(BaseHeatmapCodec):
    """Keypoints <-> CPN's blurred one-hot heatmaps, one level per Gaussian kernel size.

    Encoding: :func:`generate_blurred_one_hot_heatmaps`; decoding: :func:`decode_second_maximum`, then
    ``(x + 0.5) * stride``. CPN at 64x48: kernels ``(15, 11, 9, 7)``, decoding blur 21. A sequence ``kernel_sizes``
    makes :meth:`encode` return lists of L arrays, as ``GenerateTarget(multilevel=True)`` does.
    Unlike mmpose's ``MegviiHeatmap`` we follow tf-cpn: peak 1 (not 255) over the map's maximum, ``floor`` (not
    truncation), a step toward the second maximum, centring always, raw scores (no ``+ 0.5``), and N >= 1.

    Note: N instances, K keypoints, L ``len(kernel_sizes)``, [w, h] ``input_size``, [W, H] ``heatmap_size``.
    Encoded: heatmaps float32 (K, H, W) and keypoint_weights float32 (N, K), or lists of L (multi-level).

    Args:
        input_size, heatmap_size (Tuple[int, int]): [w, h] and [W, H].
        kernel_sizes (int | Sequence[int]): Odd Gaussian kernel size(s) of the targets.
        blur_kernel_size (int): Odd kernel size of the decoding blur. Default: 21.
    """

    def __init__(self,
                 *,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 kernel_sizes: Union[int, Sequence[int]],
                 blur_kernel_size: int = 21) -> None:
        super().__init__(input_size=input_size, heatmap_size=heatmap_size)
        self.multilevel = not isinstance(kernel_sizes, (Integral, np.integer))
        if self.multilevel:
            if isinstance(kernel_sizes, (str, bytes)) or not isinstance(kernel_sizes, Sequence) or not kernel_sizes:
                raise ValueError(f'kernel_sizes must be an odd int or a non-empty sequence of odd ints, got '
                                 f'{kernel_sizes!r}')
            self.kernel_sizes = tuple(check_odd_kernel_size(f'kernel_sizes[{i}]', k) for i, k in enumerate(kernel_sizes))
        else:
            self.kernel_sizes = (check_odd_kernel_size('kernel_sizes', kernel_sizes), )
        self.blur_kernel_size = check_odd_kernel_size('blur_kernel_size', blur_kernel_size)
        W, H = self.heatmap_size
        kernels = [dark_blur_kernel(k) for k in self.kernel_sizes]
        # (L, n, n): row m is the 1-D blur of a one-hot vector at m
        self._profiles = {name: torch.from_numpy(np.stack([blurred_one_hot_profiles(np.arange(n), n, kernel)
                                                            for kernel in kernels]))
                          for name, n in (('rows', H), ('cols', W))}

    @property
    def num_levels(self) -> int:
        return len(self.kernel_sizes)

    def encode_heatmaps(self, keypoints: np.ndarray, keypoints_visible: np.ndarray) -> dict:
        """heatmaps (K, H, W) and keypoint_weights (N, K); multi-level: lists of L."""
        heatmaps, keypoint_weights = generate_blurred_one_hot_heatmaps(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            kernel_sizes=self.kernel_sizes)
        if not self.multilevel:
            return dict(heatmaps=heatmaps[0], keypoint_weights=keypoint_weights)
        return dict(heatmaps=list(heatmaps), keypoint_weights=[keypoint_weights.copy() for _ in heatmaps])

    def encode_heatmaps_tensor(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """heatmaps (B, K, H, W) or (B, L, K, H, W), keypoint_weights (B, N, K) or (B, L, N, K)."""
        device = keypoints.device
        heatmaps, keypoint_weights = blurred_one_hot_heatmaps_tensor(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            row_profiles=self._profiles['rows'].to(device), col_profiles=self._profiles['cols'].to(device))
        if not self.multilevel:
            return dict(heatmaps=heatmaps[:, 0], keypoint_weights=keypoint_weights)
        return dict(heatmaps=heatmaps,
                    keypoint_weights=keypoint_weights[:, None].expand(-1, self.num_levels, -1, -1).contiguous())

    def decode_heatmaps(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """Keypoints (B, K, 2) in input pixels and scores (B, K)."""
        keypoints, scores = decode_second_maximum(heatmaps, blur_kernel_size=self.blur_kernel_size)
        return (keypoints + 0.5) * self._stride(keypoints), scores
