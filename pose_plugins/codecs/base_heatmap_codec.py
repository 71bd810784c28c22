"""Base of our heatmap codecs: argument checks, the stride, and batched decoding.

A subclass calls ``super().__init__(input_size=..., heatmap_size=...)`` and defines ``encode_heatmaps`` (one
sample, keypoints in heatmap pixels), ``decode_heatmaps`` (a batch, tensor ops only) and optionally
``encode_heatmaps_tensor`` (batched targets, for :meth:`~BaseHeatmapCodec.batch_encode`).
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
    """Checked ``encode`` inputs: keypoints (N, K, D), D in ``coordinate_dims``, and visibilities (N, K)
    (ones when ``None``). Raises ValueError, prefixed with ``owner``, on bad shapes or non-finite labelled x, y."""
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
    """Checked ``batch_encode`` inputs: float keypoints (B, N, K, D) and visibilities (B, N, K) on
    their device. Checks shapes only: reading values would synchronise an accelerator."""
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
    """Base of the heatmap codecs, with keyword ``input_size`` [w, h] and ``heatmap_size`` [W, H]; unlike
    mmpose's codecs it decodes a whole batch at once. Shapes: N instances, K keypoints, B batch size."""

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
        """True: mmpose's heads call :meth:`batch_decode`."""
        return True

    def encode(self, keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """Targets of one sample: keypoints (N, K, 2) in input pixels, visibilities (N, K) or ``None``."""
        keypoints, keypoints_visible = check_keypoints(f'{type(self).__name__}.encode', keypoints,
                                                       keypoints_visible)
        return self.encode_heatmaps(keypoints / self.scale_factor, keypoints_visible)

    @abstractmethod
    def encode_heatmaps(self, keypoints: np.ndarray, keypoints_visible: np.ndarray) -> dict:
        """Targets of one sample from keypoints (N, K, 2) in heatmap pixels."""

    def batch_encode(self, keypoints: Tensor, keypoints_visible: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Targets of a batch on the keypoints' device, from keypoints (B, N, K, 2) in input
        pixels: :meth:`encode`'s fields with a batch axis, e.g. ``heatmaps`` (B, K, H, W)."""
        keypoints, keypoints_visible = check_batch_keypoints(f'{type(self).__name__}.batch_encode', keypoints,
                                                             keypoints_visible)
        return self.encode_heatmaps_tensor(keypoints / self._stride(keypoints), keypoints_visible)

    def encode_heatmaps_tensor(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """Batched targets from keypoints (B, N, K, 2) in heatmap pixels."""
        raise NotImplementedError(f'{type(self).__name__} has no batched encode (define encode_heatmaps_tensor); '
                                  f'use GenerateTarget in the data pipeline')

    @abstractmethod
    def decode_heatmaps(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """Heatmaps (B, K, H, W) -> keypoints (B, K, 2) float32 in input pixels, scores (B, K)."""

    def batch_decode(self, heatmaps: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints (B, 1, K, 2) and scores (B, 1, K), numpy, of heatmaps (B, K, H, W)."""
        keypoints, scores = self.decode_tensor(heatmaps)
        return keypoints.cpu().numpy()[:, None], scores.cpu().numpy()[:, None]

    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints (1, K, 2) float32 in input pixels and scores (1, K) of heatmaps (K, H, W)."""
        if not isinstance(encoded, np.ndarray):
            raise TypeError(f'{type(self).__name__}.decode: encoded must be a numpy array of heatmaps (K, H, W), '
                            f'got {type(encoded).__name__}')
        self._check_heatmaps_shape('encoded', tuple(encoded.shape), 3)
        if encoded.dtype not in (np.float32, np.float64):
            encoded = encoded.astype(np.float32)
        keypoints, scores = self.decode_heatmaps(torch.from_numpy(np.ascontiguousarray(encoded))[None])
        return keypoints.numpy(), scores.numpy()

    def decode_tensor(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """:meth:`decode_heatmaps` without gradients; TypeError / ValueError unless a (B, K, H, W) tensor."""
        if not isinstance(heatmaps, Tensor):
            raise TypeError(f'{type(self).__name__}: heatmaps must be a torch.Tensor (B, K, H, W), got '
                            f'{type(heatmaps).__name__}')
        self._check_heatmaps_shape('heatmaps', tuple(heatmaps.shape), 4)
        if not heatmaps.is_floating_point():
            heatmaps = heatmaps.float()
        with torch.no_grad():
            return self.decode_heatmaps(heatmaps.detach())

    def _stride(self, like: Tensor) -> Tensor:
        return torch.from_numpy(self.scale_factor).to(like.device)

    def _check_heatmaps_shape(self, name: str, shape: Tuple[int, ...], ndim: int) -> None:
        W, H = self.heatmap_size
        layout = '(K, H, W)' if ndim == 3 else '(B, K, H, W)'
        if len(shape) != ndim or shape[-2:] != (H, W):
            raise ValueError(f'{type(self).__name__}: {name} must have shape {layout} with (H, W) = {(H, W)} from '
                             f'heatmap_size {self.heatmap_size}, got {shape}')
