"""Normalised coordinate labels (2D or root-relative 3D) for integral (soft-argmax) regression."""
from numbers import Real
from typing import Dict, Optional, Tuple, Union

import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from torch import Tensor

from pose_plugins.registry import KEYPOINT_CODECS
from .base_heatmap_codec import check_batch_keypoints, check_keypoints, check_size
from .msra_heatmap import MSRAHeatmap

__all__ = ['IntegralRegressionLabel']


@KEYPOINT_CODECS.register_module()
class IntegralRegressionLabel(BaseKeypointCodec):
    """Keypoints <-> normalised coordinates for integral (soft-argmax) regression, plus auxiliary heatmaps.

    2D: label ``(x / w, y / h)`` of input pixel (x, y), weight 1 if labelled (visibility > 0.5) and inside the
    input; heatmaps are :class:`MSRAHeatmap`'s over their sums; as mmpose 1.3.2's ``IntegralRegressionLabel``. 3D
    (``bbox_3d_shape`` set; 3DMPPE, https://arxiv.org/abs/1907.11346): root-relative depth z in mm gets label
    ``z / bbox_3d_shape + 1/2``, depth weight 0 where unknown, outside [0, 1) or missing. Decoded scores are 1.
    Papers: https://arxiv.org/abs/1711.08229 (integral regression), https://arxiv.org/abs/1801.07372 (DSNT).

    Note: N instances, K keypoints, D 2 or 3 coordinates, [W, H] ``heatmap_size``.
    Encoded: keypoint_labels float32 (N, K, D); keypoint_weights and (3D) keypoint_depth_weights float32 (N, K);
    heatmaps float32 (K, H, W) summing to 1, with ``with_heatmaps``.

    Args:
        input_size, heatmap_size (Tuple[int, int]): [w, h] and [W, H] (the soft-argmax map).
        sigma, unbiased, blur_kernel_size: :class:`MSRAHeatmap`'s, for the auxiliary heatmaps.
        normalize, with_heatmaps (bool): Divide each heatmap by its sum; encode heatmaps. Default: True.
        bbox_3d_shape (float, optional): Depth range in mm (3DMPPE: 2000); ``None`` (default) means 2D.
    """

    field_mapping_table = dict(heatmaps='heatmaps')
    instance_mapping_table = dict()

    def __init__(self,
                 *,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 sigma: float = 2.0,
                 unbiased: bool = False,
                 blur_kernel_size: int = 11,
                 normalize: bool = True,
                 with_heatmaps: bool = True,
                 bbox_3d_shape: Optional[float] = None) -> None:
        super().__init__()
        self.input_size = check_size('input_size', input_size)
        self.heatmap_size = check_size('heatmap_size', heatmap_size)
        if bbox_3d_shape is not None and (not isinstance(bbox_3d_shape, Real) or isinstance(bbox_3d_shape, bool)
                                          or not bbox_3d_shape > 0):
            raise ValueError(f'IntegralRegressionLabel: bbox_3d_shape must be a positive depth extent in mm '
                             f'(e.g. 2000.0) or None for 2D, got {bbox_3d_shape!r}')
        self.bbox_3d_shape = None if bbox_3d_shape is None else float(bbox_3d_shape)
        self.normalize = normalize
        self.with_heatmaps = with_heatmaps
        self.heatmap_codec = MSRAHeatmap(
            input_size=input_size, heatmap_size=heatmap_size, sigma=sigma, unbiased=unbiased,
            blur_kernel_size=blur_kernel_size)
        # instance attributes: the fields mmpose's GenerateTarget / PackPoseInputs move
        self.label_mapping_table = dict(keypoint_labels='keypoint_labels', keypoint_weights='keypoint_weights')
        if self.is_3d:
            self.label_mapping_table['keypoint_depth_weights'] = 'keypoint_depth_weights'
        self.field_mapping_table = dict(heatmaps='heatmaps') if with_heatmaps else dict()

    @property
    def is_3d(self) -> bool:
        return self.bbox_3d_shape is not None

    def encode(self, keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """Labels of keypoints (N, K, 2) in input pixels, or (N, K, 3) with root-relative depth in mm
        (NaN: unknown), and visibilities (N, K) (``None``: all visible)."""
        keypoints, keypoints_visible = check_keypoints(
            'IntegralRegressionLabel.encode', keypoints, keypoints_visible, (2, 3) if self.is_3d else (2, ),
            '' if self.is_3d else ' (set bbox_3d_shape for 3D keypoints)')
        if not np.issubdtype(keypoints.dtype, np.floating):
            keypoints = keypoints.astype(np.float64)
        encoded = {key: value.numpy() for key, value in self._encode_labels(
            torch.from_numpy(np.ascontiguousarray(keypoints)),
            torch.from_numpy(np.ascontiguousarray(keypoints_visible))).items()}
        if self.with_heatmaps:
            heatmaps = self.heatmap_codec.encode(
                np.ascontiguousarray(keypoints[..., :2]), keypoints_visible)['heatmaps']
            encoded['heatmaps'] = self._normalise(heatmaps).astype(np.float32)
        return encoded

    def batch_encode(self, keypoints: Tensor, keypoints_visible: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """:meth:`encode` of a batch (B, N, K, D) on its device; heatmaps equal to float32 rounding."""
        keypoints, keypoints_visible = check_batch_keypoints(
            'IntegralRegressionLabel.batch_encode', keypoints, keypoints_visible, (2, 3) if self.is_3d else (2, ))
        encoded = self._encode_labels(keypoints, keypoints_visible)
        if self.with_heatmaps:
            encoded['heatmaps'] = self._normalise(
                self.heatmap_codec.batch_encode(keypoints[..., :2], keypoints_visible)['heatmaps'])
        return encoded

    def _encode_labels(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """Labels and weights of keypoints (..., K, D), for numpy and batched encoding."""
        xy = keypoints[..., :2]
        w, h = self.input_size
        inside = ((xy >= 0) & (xy <= xy.new_tensor([w - 1, h - 1]))).all(dim=-1)  # NaN compares False
        weights = (inside & (keypoints_visible > 0.5)).float()
        labels = (xy.double() / xy.new_tensor([w, h], dtype=torch.float64)).float()
        encoded = dict(keypoint_labels=labels, keypoint_weights=weights)
        if self.is_3d:
            if keypoints.shape[-1] == 3:
                z_norm = keypoints[..., 2] / self.bbox_3d_shape + 0.5
            else:
                z_norm = torch.full_like(xy[..., 0], torch.nan)
            known = torch.isfinite(z_norm) & (z_norm >= 0) & (z_norm < 1)
            encoded['keypoint_labels'] = torch.cat(
                [labels, torch.where(known, z_norm, 0.5)[..., None].float()], dim=-1)
            encoded['keypoint_depth_weights'] = (weights * known).float()
        return encoded

    def _normalise(self, heatmaps: Union[np.ndarray, Tensor]) -> Union[np.ndarray, Tensor]:
        if not self.normalize:
            return heatmaps
        return heatmaps / (heatmaps.sum(axis=(-1, -2), keepdims=True) + 1e-24)

    @property
    def support_batch_decoding(self) -> bool:
        return True

    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Normalised (N, K, D) -> keypoints (N, K, D) float32 in pixels (and mm), scores (N, K) of 1."""
        encoded = np.asarray(encoded)
        dims = 3 if self.is_3d else 2
        if encoded.ndim != 3 or encoded.shape[-1] != dims:
            raise ValueError(f'IntegralRegressionLabel.decode: expected normalised coordinates (N, K, {dims}), '
                             f'got shape {encoded.shape}')
        return self._denormalise(encoded)

    def batch_decode(self, encoded: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`decode` of a batch (B, N, K, D), a tensor or an array."""
        encoded = encoded.detach().cpu().numpy() if isinstance(encoded, Tensor) else np.asarray(encoded)
        dims = 3 if self.is_3d else 2
        if encoded.ndim != 4 or encoded.shape[-1] != dims:
            raise ValueError(f'IntegralRegressionLabel.batch_decode: expected normalised coordinates '
                             f'(B, N, K, {dims}), got shape {encoded.shape}')
        return self._denormalise(encoded)

    def _denormalise(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        w, h = self.input_size
        scale = np.array([w, h] + ([self.bbox_3d_shape] if self.is_3d else []), dtype=np.float32)
        keypoints = encoded.astype(np.float32) * scale
        if self.is_3d:
            keypoints[..., 2] -= 0.5 * self.bbox_3d_shape
        return keypoints, np.ones(encoded.shape[:-1], dtype=np.float32)
