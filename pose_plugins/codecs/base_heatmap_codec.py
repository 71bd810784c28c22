"""What every heatmap codec of ours shares: argument checks, the stride, keypoint checks, batched decoding.

A new heatmap codec subclasses :class:`BaseHeatmapCodec`, calls ``super().__init__(input_size=...,
heatmap_size=...)`` and defines

- ``encode_heatmaps(keypoints, keypoints_visible)``: the targets of one sample from its keypoints in heatmap
  pixels (the base's ``encode`` has checked them and divided them by the stride), and
- ``decode_heatmaps(heatmaps)``: heatmaps ``(B, K, H, W)`` -> keypoints in input pixels ``(B, K, 2)`` and scores
  ``(B, K)``, with tensor ops on the heatmaps' device (no Python loop over samples or keypoints; the building
  blocks are in :mod:`pose_plugins.codecs.utils.heatmap_decode`), and, for the fast training data path,
- ``encode_heatmaps_tensor(keypoints, keypoints_visible)``: the targets of a whole batch from keypoints in
  heatmap pixels ``(B, N, K, 2)``, with tensor ops on their device (building blocks in
  :mod:`pose_plugins.codecs.utils.batch_encode`); :meth:`~BaseHeatmapCodec.batch_encode` checks and scales.

The base turns ``decode_heatmaps`` into mmpose's two entry points: :meth:`~BaseHeatmapCodec.decode` (one sample,
numpy) and :meth:`~BaseHeatmapCodec.batch_decode` (a batch, returning what mmpose's ``BaseHead.decode``
expects), and sets ``support_batch_decoding = True`` so that mmpose's heads and ``TopdownPoseEstimator.predict``
decode a whole batch in one call.
"""
import math
from abc import abstractmethod
from numbers import Integral, Real
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from torch import Tensor

__all__ = [
    'BaseHeatmapCodec', 'check_size', 'check_odd_kernel_size', 'check_positive_real', 'check_keypoints',
    'check_batch_keypoints'
]


def _is_int(value: Any) -> bool:
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_size(name: str, value: Any) -> Tuple[int, int]:
    """``value`` as a ``(width, height)`` pair of positive ints, or a ValueError naming ``name``."""
    if (not isinstance(value, (Sequence, np.ndarray)) or isinstance(value, str) or len(value) != 2
            or not all(_is_int(v) and v > 0 for v in value)):
        raise ValueError(f'{name} must be 2 positive ints (width, height), got {value!r}')
    return int(value[0]), int(value[1])


def check_odd_kernel_size(name: str, value: Any) -> int:
    """``value`` as an odd int >= 1 (an OpenCV Gaussian kernel size), or a ValueError naming ``name``."""
    if not _is_int(value) or value < 1 or value % 2 != 1:
        raise ValueError(f'{name} must be an odd int >= 1 (an OpenCV Gaussian kernel size), got {value!r}')
    return int(value)


def check_positive_real(name: str, value: Any, unit: str = '') -> float:
    """``value`` as a finite float > 0, or a ValueError naming ``name`` (and its ``unit``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f'{name} must be a finite number > 0{f" ({unit})" if unit else ""}, got {value!r}')
    return float(value)


def check_keypoints(owner: str, keypoints: Any, keypoints_visible: Any, coordinate_dims: Tuple[int, ...] = (2, ),
                    shape_hint: str = '') -> Tuple[np.ndarray, np.ndarray]:
    """Checked ``encode`` inputs: numeric keypoints (N, K, D) with D in ``coordinate_dims`` and finite
    visibilities (N, K) (all ones when ``None``); the x, y of labelled keypoints (visibility >= 0.5) must be
    finite. Errors start with ``owner`` (e.g. ``'MSRAHeatmap.encode'``); ``shape_hint`` ends a shape error.

    Returns:
        Tuple[np.ndarray, np.ndarray]: ``keypoints`` (N, K, D) and ``keypoints_visible`` (N, K) as arrays.
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 3 or keypoints.shape[-1] not in coordinate_dims or not np.issubdtype(
            keypoints.dtype, np.number):
        shapes = ' or '.join(f'(N, K, {d})' for d in coordinate_dims)
        raise ValueError(f'{owner}: keypoints must be a numeric array of shape {shapes}, got shape '
                         f'{keypoints.shape} and dtype {keypoints.dtype}{shape_hint}')
    if keypoints_visible is None:
        keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
    keypoints_visible = np.asarray(keypoints_visible)
    if keypoints_visible.shape != keypoints.shape[:2]:
        raise ValueError(f'{owner}: keypoints_visible must have shape (N, K) = {keypoints.shape[:2]} to match '
                         f'keypoints {keypoints.shape}, got {keypoints_visible.shape}')
    if not np.isfinite(keypoints_visible).all():
        raise ValueError(f'{owner}: keypoints_visible must be finite, got non-finite values')
    labelled = keypoints_visible >= 0.5
    bad = labelled & ~np.isfinite(keypoints[..., :2]).all(-1)
    if bad.any():
        raise ValueError(f'{owner}: keypoints must be finite where keypoints_visible >= 0.5, got non-finite '
                         f'coordinates at (instance, keypoint) {np.argwhere(bad).tolist()}')
    return keypoints, keypoints_visible


def check_batch_keypoints(owner: str, keypoints: Any, keypoints_visible: Any,
                          coordinate_dims: Tuple[int, ...] = (2, )) -> Tuple[Tensor, Tensor]:
    """Checked ``batch_encode`` inputs: floating-point keypoints (B, N, K, D) with D in ``coordinate_dims`` and
    visibilities (B, N, K) on the same device (all ones when ``None``). Shapes only: values are not read (that
    would synchronise an accelerator); non-finite coordinates count as outside the map, as in ``encode``.

    Returns:
        Tuple[Tensor, Tensor]: ``keypoints`` (B, N, K, D) and ``keypoints_visible`` (B, N, K).
    """
    if not isinstance(keypoints, Tensor) or keypoints.ndim != 4 or keypoints.shape[-1] not in coordinate_dims \
            or not keypoints.is_floating_point():
        shapes = ' or '.join(f'(B, N, K, {d})' for d in coordinate_dims)
        raise ValueError(f'{owner}: keypoints must be a floating-point tensor of shape {shapes}, got '
                         f'{getattr(keypoints, "shape", type(keypoints).__name__)} '
                         f'{getattr(keypoints, "dtype", "")}'.rstrip())
    if keypoints_visible is None:
        keypoints_visible = keypoints.new_ones(keypoints.shape[:3])
    if not isinstance(keypoints_visible, Tensor) or keypoints_visible.shape != keypoints.shape[:3]:
        raise ValueError(f'{owner}: keypoints_visible must be a tensor of shape (B, N, K) = '
                         f'{tuple(keypoints.shape[:3])} to match keypoints, got '
                         f'{getattr(keypoints_visible, "shape", type(keypoints_visible).__name__)}')
    return keypoints, keypoints_visible.to(keypoints.device)


class BaseHeatmapCodec(BaseKeypointCodec):
    """Base of the heatmap codecs: validated sizes, the stride, keypoint checks, and decoding of one sample or
    of a batch through one loop-free :meth:`decode_heatmaps`.

    Note:
        - N: number of instances (1 in top-down)
        - K: number of keypoints
        - B: batch size
        - [w, h]: ``input_size``; [W, H]: ``heatmap_size``

    Args:
        input_size (Tuple[int, int]): Input image size [w, h].
        heatmap_size (Tuple[int, int]): Heatmap size [W, H].

    Attributes:
        scale_factor (np.ndarray): The heatmap stride in input pixels, ``[w / W, h / H]``, float32 (as mmpose).
    """

    label_mapping_table = dict(keypoint_weights='keypoint_weights')
    field_mapping_table = dict(heatmaps='heatmaps')
    instance_mapping_table = dict()

    def __init__(self, *, input_size: Tuple[int, int], heatmap_size: Tuple[int, int]) -> None:
        super().__init__()
        self.input_size = check_size('input_size', input_size)
        self.heatmap_size = check_size('heatmap_size', heatmap_size)
        self.scale_factor = (np.array(self.input_size) / np.array(self.heatmap_size)).astype(np.float32)

    @property
    def support_batch_decoding(self) -> bool:
        """True: :meth:`batch_decode` returns per-sample arrays, as mmpose's ``BaseHead.decode`` expects."""
        return True

    def encode(self, keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """The targets of one sample (the fields are listed in the codec's docstring).

        Args:
            keypoints (np.ndarray): Keypoint coordinates in input-image pixels, (N, K, 2).
            keypoints_visible (np.ndarray, optional): Visibilities, (N, K); ``None`` means all visible.

        Returns:
            dict: What :meth:`encode_heatmaps` returns for the keypoints in heatmap pixels.
        """
        keypoints, keypoints_visible = check_keypoints(f'{type(self).__name__}.encode', keypoints,
                                                       keypoints_visible)
        return self.encode_heatmaps(keypoints / self.scale_factor, keypoints_visible)

    @abstractmethod
    def encode_heatmaps(self, keypoints: np.ndarray, keypoints_visible: np.ndarray) -> dict:
        """The targets of one sample from checked keypoints in heatmap pixels, (N, K, 2), and visibilities
        (N, K)."""

    def batch_encode(self, keypoints: Tensor, keypoints_visible: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """The targets of a whole batch, rendered with tensor ops on the keypoints' device (the fast training
        path: :class:`~pose_plugins.models.data_preprocessors.TopdownTargetDataPreprocessor` calls it on the
        model's device). The same targets as :meth:`encode` of each sample (see the codec and
        :mod:`pose_plugins.codecs.utils.batch_encode` for the float32 rounding where they are not bit-identical).

        Args:
            keypoints (Tensor): Keypoints in input-image pixels, (B, N, K, 2).
            keypoints_visible (Tensor, optional): Visibilities, (B, N, K); ``None`` means all visible.

        Returns:
            dict: What :meth:`encode_heatmaps_tensor` returns: :meth:`encode`'s fields as tensors with a leading
            batch axis, e.g. ``heatmaps`` (B, K, H, W) and ``keypoint_weights`` (B, N, K).
        """
        keypoints, keypoints_visible = check_batch_keypoints(f'{type(self).__name__}.batch_encode', keypoints,
                                                             keypoints_visible)
        return self.encode_heatmaps_tensor(keypoints / self._stride(keypoints), keypoints_visible)

    def encode_heatmaps_tensor(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """The targets of a batch from keypoints in heatmap pixels, (B, N, K, 2), and visibilities (B, N, K),
        with tensor ops on their device; a codec without it has no :meth:`batch_encode`."""
        raise NotImplementedError(f'{type(self).__name__} has no batched encode (define encode_heatmaps_tensor); '
                                  f'use GenerateTarget in the data pipeline')

    @abstractmethod
    def decode_heatmaps(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """Keypoints of a batch in input-image pixels, with tensor ops on the heatmaps' device.

        Args:
            heatmaps (Tensor): Floating-point heatmaps (B, K, H, W), shape already checked.

        Returns:
            Tuple[Tensor, Tensor]:
            - keypoints (Tensor): float32, (B, K, 2).
            - scores (Tensor): (B, K).
        """

    def batch_decode(self, heatmaps: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints of a batch, decoded at once on the heatmaps' device (what mmpose's heads call).

        Args:
            heatmaps (Tensor): (B, K, H, W).

        Returns:
            Tuple[np.ndarray, np.ndarray]: Indexed per sample as mmpose's ``BaseHead.decode`` reads them:
            - keypoints (np.ndarray): float32 in input pixels, (B, 1, K, 2).
            - scores (np.ndarray): (B, 1, K).
        """
        keypoints, scores = self.decode_tensor(heatmaps)
        return keypoints.cpu().numpy()[:, None], scores.cpu().numpy()[:, None]

    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints of one sample, in input-image pixels (the batch path on a batch of one).

        Args:
            encoded (np.ndarray): Heatmaps, (K, H, W).

        Returns:
            Tuple[np.ndarray, np.ndarray]:
            - keypoints (np.ndarray): float32, (1, K, 2).
            - scores (np.ndarray): (1, K).
        """
        if not isinstance(encoded, np.ndarray):
            raise TypeError(f'{type(self).__name__}.decode: encoded must be a numpy array of heatmaps (K, H, W), '
                            f'got {type(encoded).__name__}')
        self._check_heatmaps_shape('encoded', tuple(encoded.shape), 3)
        if encoded.dtype not in (np.float32, np.float64):
            encoded = encoded.astype(np.float32)
        keypoints, scores = self.decode_heatmaps(torch.from_numpy(np.ascontiguousarray(encoded))[None])
        return keypoints.numpy(), scores.numpy()

    def decode_tensor(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """:meth:`decode_heatmaps` after checking the input: a tensor (B, K, H, W) with this codec's (H, W).

        Args:
            heatmaps (Tensor): (B, K, H, W); integer tensors are converted to float32; gradients are not tracked.

        Returns:
            Tuple[Tensor, Tensor]: keypoints (B, K, 2) in input pixels and scores (B, K), on the same device.
        """
        if not isinstance(heatmaps, Tensor):
            raise TypeError(f'{type(self).__name__}: heatmaps must be a torch.Tensor (B, K, H, W), got '
                            f'{type(heatmaps).__name__}')
        self._check_heatmaps_shape('heatmaps', tuple(heatmaps.shape), 4)
        if not heatmaps.is_floating_point():
            heatmaps = heatmaps.float()
        with torch.no_grad():
            return self.decode_heatmaps(heatmaps.detach())

    def _stride(self, like: Tensor) -> Tensor:
        """:attr:`scale_factor` as a float32 tensor on ``like``'s device, (2, )."""
        return torch.from_numpy(self.scale_factor).to(like.device)

    def _check_heatmaps_shape(self, name: str, shape: Tuple[int, ...], ndim: int) -> None:
        """Raise a ValueError naming ``name`` unless ``shape`` has ``ndim`` dims and ends with (H, W)."""
        W, H = self.heatmap_size
        layout = '(K, H, W)' if ndim == 3 else '(B, K, H, W)'
        if len(shape) != ndim or shape[-2:] != (H, W):
            raise ValueError(f'{type(self).__name__}: {name} must have shape {layout} with (H, W) = {(H, W)} from '
                             f'heatmap_size {self.heatmap_size}, got {shape}')
