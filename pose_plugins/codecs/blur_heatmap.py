"""The CPN / "Megvii" heatmap codec: blurred one-hot targets (one per kernel size), second-maximum decoding.

Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation", CVPR 2018
(https://arxiv.org/abs/1711.07319), as implemented in the authors' tf-cpn (``dataset.py`` ``joints_heatmap_gen``
and ``mptest.py``): each keypoint sets a 1 at the heatmap pixel that contains it, the map is blurred with
``cv2.GaussianBlur(map, (k, k), 0)`` and divided by its maximum. GlobalNet's pyramid levels are supervised with
kernels 15, 11, 9, 7 (coarsest level first) and RefineNet with the sharpest one (7) at 64x48 heatmaps.
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
    """Map (possibly out-of-range) indices into ``[0, length)`` as OpenCV's ``BORDER_REFLECT_101``
    (``gfedcb|abcdefgh|gfedcba``), repeated as often as needed (``cv2.borderInterpolate``)."""
    if length == 1:
        return np.zeros_like(index)
    period = 2 * (length - 1)
    folded = np.mod(index, period)
    return np.where(folded < length, folded, period - folded)


def blurred_one_hot_profiles(positions: np.ndarray, length: int, kernel: np.ndarray) -> np.ndarray:
    """1-D ``cv2`` filtering of one-hot vectors, in closed form: ``out[m, i] = sum_j kernel[j] *
    [reflect101(i + j - r) == positions[m]]`` with ``r = len(kernel) // 2``.

    This is exactly what OpenCV's separable filter computes for a one-hot row or column under its default border
    (``BORDER_REFLECT_101``): away from the borders ``out[m, i] = kernel[i - positions[m] + r]``; within ``r`` of
    a border the mirrored taps add up.

    Note:
        M one-hot vectors, n = ``length``, k = ``len(kernel)`` (odd).

    Args:
        positions (np.ndarray): Integer position of each vector's 1, in ``[0, length)``, (M, ).
        length (int): Vector length n.
        kernel (np.ndarray): Symmetric float32 filter taps, (k, ).

    Returns:
        np.ndarray: float32, (M, n).
    """
    radius = len(kernel) // 2
    sources = _reflect101(np.arange(length)[:, None] + np.arange(len(kernel))[None, :] - radius, length)  # (n, k)
    hits = sources[None] == np.asarray(positions)[:, None, None]  # (M, n, k)
    return np.where(hits, kernel, np.float32(0)).sum(axis=-1, dtype=np.float32)


def generate_blurred_one_hot_heatmaps(*, heatmap_size: Tuple[int, int], keypoints: np.ndarray,
                                      keypoints_visible: np.ndarray,
                                      kernel_sizes: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Render tf-cpn's targets for N instances and every kernel size at once (no loop over keypoints).

    Each labelled keypoint (visibility >= 0.5) lights the pixel ``(floor(x), floor(y))`` that contains it; the
    one-hot map is blurred as ``cv2.GaussianBlur(map, (k, k), 0)`` (OpenCV's own kernel taps, so the fixed
    tables OpenCV uses for k <= 7 are reproduced too, and its ``BORDER_REFLECT_101`` border) and divided by its
    maximum (peak 1). The blur of a one-hot map is separable, so it is the outer product of two 1-D profiles
    (:func:`blurred_one_hot_profiles`). Keypoints whose pixel lies outside the map (or with a non-finite
    coordinate) are not drawn and get weight 0; the others keep their visibility as weight. Instances are
    combined with an element-wise maximum.

    Note:
        - N: number of instances
        - K: number of keypoints
        - L: number of kernel sizes (levels)
        - [W, H]: ``heatmap_size``

    Args:
        heatmap_size (Tuple[int, int]): Heatmap size [W, H].
        keypoints (np.ndarray): Keypoint coordinates in heatmap pixels, (N, K, 2).
        keypoints_visible (np.ndarray): Keypoint visibilities, (N, K).
        kernel_sizes (Sequence[int]): L odd kernel sizes.

    Returns:
        Tuple[np.ndarray, np.ndarray]:
        - heatmaps (np.ndarray): float32, (L, K, H, W).
        - keypoint_weights (np.ndarray): float32, (N, K).
    """
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    finite = np.isfinite(keypoints).all(axis=-1)  # (N, K)
    pixel = np.floor(np.where(finite[..., None], keypoints, -1)).astype(np.int64)  # (N, K, 2)
    outside = (pixel[..., 0] < 0) | (pixel[..., 0] >= W) | (pixel[..., 1] < 0) | (pixel[..., 1] >= H) | ~finite
    keypoint_weights, draw = _initial_weights_and_mask(keypoints_visible, outside)

    heatmaps = np.zeros((len(kernel_sizes), N, K, H, W), dtype=np.float32)
    drawn = pixel[draw]  # (M, 2)
    for level, kernel_size in enumerate(kernel_sizes):  # a few levels; every keypoint at once in each
        kernel = dark_blur_kernel(kernel_size)  # cv2.getGaussianKernel(k, 0), float32
        rows = blurred_one_hot_profiles(drawn[:, 1], H, kernel)  # (M, H)
        cols = blurred_one_hot_profiles(drawn[:, 0], W, kernel)  # (M, W)
        blurred = rows[:, :, None] * cols[:, None, :]  # (M, H, W), float32 products as OpenCV's
        heatmaps[level][draw] = blurred / blurred.max(axis=(1, 2), keepdims=True)
    return heatmaps.max(axis=1, initial=0.0), keypoint_weights


@torch.no_grad()
def decode_second_maximum(heatmaps: Tensor, *, blur_kernel_size: int, delta: float = 0.25) -> Tuple[Tensor, Tensor]:
    """tf-cpn's decoding, batched: blur, take the maximum, move ``delta`` pixels toward the second maximum.

    Per map: ``m`` = argmax of the blurred map, ``s`` = argmax of the blurred map without ``m`` (first in
    row-major order on ties), keypoint ``m + delta * (s - m) / |s - m|`` (``m`` when ``s == m``, a 1x1 map);
    score = the *raw* map's value at ``m`` (tf-cpn reads the raw map at the rounded keypoint, which is ``m``).

    Note:
        B batch, K keypoints, H, W heatmap size.

    Args:
        heatmaps (Tensor): (B, K, H, W). Not modified.
        blur_kernel_size (int): Odd size of the zero-padded Gaussian blur (tf-cpn: 21 at 64x48).
        delta (float): Length of the shift toward the second maximum, in heatmap pixels. Default: 0.25.

    Returns:
        Tuple[Tensor, Tensor]:
        - keypoints (Tensor): float32 ``(x, y)`` in heatmap pixels (pixel indices, not yet centred), (B, K, 2).
        - scores (Tensor): (B, K), dtype of ``heatmaps``.
    """
    heatmaps = heatmaps.detach()
    B, K, H, W = heatmaps.shape
    flat = blur_heatmaps(heatmaps, blur_kernel_size).reshape(B, K, H * W)
    first = flat_argmax(flat)  # (B, K), the first maximum on ties (as np.argmax)
    second = flat_argmax(flat.scatter(-1, first[..., None], -math.inf))  # (B, K); = first when H * W == 1
    peak = flat_index_to_xy(first, W)  # (B, K, 2)
    towards = flat_index_to_xy(second, W) - peak
    length = towards.norm(dim=-1, keepdim=True)
    shift = torch.where(length > 1e-3, delta * towards / length.clamp(min=1e-3), torch.zeros_like(towards))
    keypoints = peak + shift  # inside the map: both maxima are (tf-cpn clips, as its maxima may be in the pad)
    scores = torch.gather(heatmaps.reshape(B, K, H * W), 2, first[..., None])[..., 0]
    return keypoints, scores


@KEYPOINT_CODECS.register_module()
class CPNBlurHeatmap(BaseHeatmapCodec):
    """Keypoints <-> CPN's blurred one-hot heatmaps, one heatmap level per Gaussian kernel size.

    **Encoding** (tf-cpn ``joints_heatmap_gen``, vectorized, see :func:`generate_blurred_one_hot_heatmaps`): the
    keypoint, divided by the stride ``input_size / heatmap_size``, lights the heatmap pixel that contains it
    (``floor``, as tf-cpn's ``int()`` of a non-negative coordinate); the one-hot map is blurred exactly as
    ``cv2.GaussianBlur(map, (k, k), 0)`` (OpenCV's taps and ``BORDER_REFLECT_101`` border) and divided by its
    maximum, so the peak is 1. One map per kernel size in ``kernel_sizes``: CPN supervises GlobalNet's pyramid
    levels with kernels 15, 11, 9, 7 (coarsest level first) and RefineNet with the last (sharpest) one.

    **Decoding** (tf-cpn ``mptest.py``, see :func:`decode_second_maximum`): blur each map with a zero-padded
    ``blur_kernel_size`` Gaussian, take its maximum, move a quarter pixel toward the second maximum (unit
    vector), and map the pixel centre to the input: ``(x + 0.5) * stride`` (tf-cpn: ``x * 4 + 2``). The score
    is the raw map's value at the maximum. Encoding then decoding returns the keypoint's pixel (error at most
    0.75 stride per axis) except within a few pixels of a border, where the zero-padded blur of a map cut (and
    reflected) by the border can move the maximum inward, as in tf-cpn.

    **Multi-level targets.** With a sequence ``kernel_sizes`` (L levels), :meth:`encode` returns *lists* of L
    arrays, which mmpose's ``GenerateTarget(encoder=codec)`` stores and ``PackPoseInputs`` packs as multi-level
    data (``gt_fields``: ``MultilevelPixelData`` with L ``heatmaps`` levels; ``keypoint_weights``: (L, N, K)) --
    exactly what ``GenerateTarget(encoder=[...], multilevel=True)`` produces from L single-level encoders, as
    mmpose's MSPN configs use :class:`mmpose.codecs.MegviiHeatmap`. With an int ``kernel_sizes`` the codec is
    single-level (arrays, like ``MegviiHeatmap``) and can itself be one of the encoders of
    ``GenerateTarget(multilevel=True)``. One config dict therefore serves both the target generation and the
    head's decoder. (mmpose 1.3.2's ``GenerateTarget(use_dataset_keypoint_weights=True)`` silently leaves list
    weights unscaled, for our multi-level codec as for its own multilevel encoders.)

    **Compared with mmpose's MegviiHeatmap** (the same tf-cpn idea, one level per encoder):

    - ``MegviiHeatmap`` peaks at 255 (tf-cpn's scale) and divides by the blurred value *at the keypoint pixel*;
      tf-cpn and we divide by the map's maximum (peak 1). The two agree (``255 * ours``, to float32 rounding)
      wherever the keypoint pixel is the maximum, i.e. everywhere but within a few pixels of a border, where the
      mirrored taps of ``BORDER_REFLECT_101`` can make a pixel nearer the border the maximum (for kernel 7 at
      1 pixel from the border, for kernel 15 up to 3 pixels); there MegviiHeatmap's map exceeds 255 and equals
      ``255 * ours / ours[keypoint pixel]`` (tested).
    - It truncates ``keypoint / stride`` toward zero, so ``-stride < coordinate < 0`` lands on pixel 0 with its
      weight kept; we floor (tf-cpn skips negative coordinates), so it is outside: not drawn, weight 0.
    - It decodes with a blur of its encoding kernel, the argmax, a quarter-pixel step along x and y toward the
      higher neighbour (SimpleBaseline's rule) and a half-pixel centring applied only when ``1 < x < W - 1``
      and ``1 < y < H - 1``; scores are ``max / 255 + 0.5``. We follow tf-cpn: the step is toward the second
      maximum, the centring always applies, scores are the raw value at the maximum (no ``+ 0.5``). Where the
      second maximum is an axis neighbour and the two neighbours across are equal, both give the same keypoint
      (tested).
    - It asserts one instance; we accept N >= 1 (combined by an element-wise maximum) and always return float32
      weights.

    Other differences from tf-cpn: tf-cpn multiplies the targets by 255 and adds 0.5 to the scores (see above);
    at test time it blurs a 10-pixel zero-padded map and may find the maximum inside the padding (then clipped);
    we search the map only.

    Note:
        - N: number of instances (1 in top-down)
        - K: number of keypoints
        - L: number of levels, ``len(kernel_sizes)`` (multi-level codec)
        - B: batch size (:meth:`batch_decode`)
        - [w, h]: ``input_size``; [W, H]: ``heatmap_size``

    Encoded:
        - heatmaps: float32 (K, H, W), or a list of L of them (multi-level), level ``l`` blurred with
          ``kernel_sizes[l]``
        - keypoint_weights: float32 (N, K), or a list of L equal ones (multi-level)

    Batch-encoded (:meth:`batch_encode`, tensors on the keypoints' device, :meth:`encode`'s to < 2e-7 relative):
    heatmaps float32 (B, K, H, W), or (B, L, K, H, W) multi-level; keypoint_weights (B, N, K), or (B, L, N, K).

    Args:
        input_size (Tuple[int, int]): Input image size [w, h].
        heatmap_size (Tuple[int, int]): Heatmap size [W, H].
        kernel_sizes (int | Sequence[int]): Odd Gaussian kernel size(s) of the targets: an int gives a
            single-level codec, a sequence an L-level one (CPN at 64x48: ``(15, 11, 9, 7)``).
        blur_kernel_size (int): Odd kernel size of the decoding blur (tf-cpn: 21 at 64x48). Default: 21.
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
        # (L, n, n): row m = the level's 1-D blur of a one-hot vector at m (what batch_encode reads)
        self._profiles = {name: torch.from_numpy(np.stack([blurred_one_hot_profiles(np.arange(n), n, kernel)
                                                            for kernel in kernels]))
                          for name, n in (('rows', H), ('cols', W))}

    @property
    def num_levels(self) -> int:
        """Number of heatmap levels L (1 for a single-level codec)."""
        return len(self.kernel_sizes)

    def encode_heatmaps(self, keypoints: np.ndarray, keypoints_visible: np.ndarray) -> dict:
        """``heatmaps``, float32 (K, H, W), and ``keypoint_weights``, float32 (N, K), of keypoints in heatmap
        pixels; multi-level: lists of L of each, one per kernel size (the weights equal)."""
        heatmaps, keypoint_weights = generate_blurred_one_hot_heatmaps(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            kernel_sizes=self.kernel_sizes)
        if not self.multilevel:
            return dict(heatmaps=heatmaps[0], keypoint_weights=keypoint_weights)
        return dict(heatmaps=list(heatmaps), keypoint_weights=[keypoint_weights.copy() for _ in heatmaps])

    def encode_heatmaps_tensor(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """:meth:`encode_heatmaps` of a batch of keypoints in heatmap pixels (B, N, K, 2), on their device, to
        float32 rounding (< 2e-7 relative, :mod:`pose_plugins.codecs.utils.batch_encode`): ``heatmaps`` float32 (B, K, H, W), or (B, L, K, H, W) multi-level, and ``keypoint_weights``
        float32 (B, N, K), or (B, L, N, K) multi-level (the L levels' equal weights, as ``PackPoseInputs``
        stacks the per-sample lists)."""
        device = keypoints.device
        heatmaps, keypoint_weights = blurred_one_hot_heatmaps_tensor(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            row_profiles=self._profiles['rows'].to(device), col_profiles=self._profiles['cols'].to(device))
        if not self.multilevel:
            return dict(heatmaps=heatmaps[:, 0], keypoint_weights=keypoint_weights)
        return dict(heatmaps=heatmaps,
                    keypoint_weights=keypoint_weights[:, None].expand(-1, self.num_levels, -1, -1).contiguous())

    def decode_heatmaps(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """tf-cpn's decoding (:func:`decode_second_maximum`), pixel centres mapped to input pixels; loop-free.

        Args:
            heatmaps (Tensor): (B, K, H, W) (a head's RefineNet output).

        Returns:
            Tuple[Tensor, Tensor]:
            - keypoints (Tensor): float32 in input pixels, (B, K, 2).
            - scores (Tensor): (B, K).
        """
        keypoints, scores = decode_second_maximum(heatmaps, blur_kernel_size=self.blur_kernel_size)
        return (keypoints + 0.5) * self._stride(keypoints), scores
