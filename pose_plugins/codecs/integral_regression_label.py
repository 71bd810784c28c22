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
    """Keypoints <-> normalised coordinates, plus optional normalised Gaussian heatmaps for an auxiliary loss.

    2D (``bbox_3d_shape=None``): the label of a keypoint at input pixel ``(x, y)`` is ``(x / w, y / h)``, the
    coordinate a soft-argmax over a ``W x H`` map of stride ``w / W`` returns for it (see
    :class:`~pose_plugins.models.layers.SoftArgmax`). Its weight is 1 if it is labelled (visibility > 0.5) and
    inside the input (``0 <= x <= w - 1``, ``0 <= y <= h - 1``), else 0. The heatmaps are
    :class:`~pose_plugins.codecs.MSRAHeatmap`'s, each divided by its sum (the target of mmpose's IPR/DSNT
    auxiliary heatmap losses). Same numbers as ``mmpose.codecs.IntegralRegressionLabel`` (mmpose 1.3.2) on the
    same inputs (a test compares them in-process).

    3D (``bbox_3d_shape`` given; 3DMPPE PoseNet, Moon et al., ICCV 2019, https://arxiv.org/abs/1907.11346):
    keypoints carry a third column, the depth relative to the person's root in millimetres (what
    :class:`~pose_plugins.datasets.CocoKeypoint3DDataset` provides). 3DMPPE maps root-relative depth
    ``z in [-bbox_3d_shape / 2, bbox_3d_shape / 2)`` to its ``D`` depth bins as ``(z / (bbox_3d_shape / 2) + 1) *
    D / 2``; divided by ``D`` that is the normalised label ``z / bbox_3d_shape + 1/2`` in [0, 1), the soft-argmax's
    z coordinate. A keypoint's depth weight (``keypoint_depth_weights``) is its 2D weight times 1 if its depth is
    known (finite) and inside that range, else 0; keypoints given without a third column (2D-only data mixed into
    3D training, as 3DMPPE mixes MPII and COCO) get label 1/2 and depth weight 0, so only their x and y are
    learned.

    Decoding multiplies by ``(w, h)`` (and maps z back to millimetres); scores are 1, as mmpose's. A batch is
    decoded in one call (:meth:`batch_decode`, ``support_batch_decoding`` is True).

    Integral regression: Sun et al., "Integral Human Pose Regression", ECCV 2018 (https://arxiv.org/abs/1711.08229);
    auxiliary heatmap targets: Nibali et al., "Numerical Coordinate Regression with Convolutional Neural
    Networks" (DSNT), 2018 (https://arxiv.org/abs/1801.07372).

    Note:
        - N: number of instances (1 in top-down)
        - K: number of keypoints
        - D: 2 (2D) or 3 (3D) coordinates
        - [w, h]: ``input_size``; [W, H]: ``heatmap_size``

    Encoded:
        - keypoint_labels (np.ndarray): float32, (N, K, D)
        - keypoint_weights (np.ndarray): float32, (N, K)
        - keypoint_depth_weights (np.ndarray): float32, (N, K); 3D only
        - heatmaps (np.ndarray): float32, (K, H, W), each summing to 1 (0 where nothing is drawn); only with
          ``with_heatmaps=True``

    Batch-encoded (:meth:`batch_encode`, tensors on the keypoints' device): the same fields with a batch axis:
    keypoint_labels (B, N, K, D), keypoint_weights and keypoint_depth_weights (B, N, K), heatmaps (B, K, H, W).

    Args:
        input_size (Tuple[int, int]): Input image size [w, h].
        heatmap_size (Tuple[int, int]): Heatmap size [W, H] of the auxiliary heatmaps (the head's soft-argmax
            map size).
        sigma (float): Gaussian sigma of the auxiliary heatmaps, in heatmap pixels. Defaults to 2.0.
        unbiased (bool): DARK encoding of the auxiliary heatmaps (see ``MSRAHeatmap``). Defaults to False.
        blur_kernel_size (int): DARK modulation kernel size (see ``MSRAHeatmap``). Defaults to 11.
        normalize (bool): Divide each auxiliary heatmap by its sum. Defaults to True.
        with_heatmaps (bool): Encode the auxiliary heatmaps; turn off when the head has no heatmap loss, to
            save their cost in the data pipeline. Defaults to True.
        bbox_3d_shape (float, optional): Extent in millimetres of the root-relative depth range (3DMPPE's
            ``bbox_3d_shape[0]``, 2000 there). ``None`` means 2D. Defaults to None.
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
        # Instance attributes: what mmpose's GenerateTarget / PackPoseInputs move into the data sample.
        self.label_mapping_table = dict(keypoint_labels='keypoint_labels', keypoint_weights='keypoint_weights')
        if self.is_3d:
            self.label_mapping_table['keypoint_depth_weights'] = 'keypoint_depth_weights'
        self.field_mapping_table = dict(heatmaps='heatmaps') if with_heatmaps else dict()

    @property
    def is_3d(self) -> bool:
        """Whether the labels have a depth column (``bbox_3d_shape`` is set)."""
        return self.bbox_3d_shape is not None

    def encode(self, keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """Encode keypoints in input-image pixels (and root-relative mm) to normalised labels.

        Args:
            keypoints (np.ndarray): (N, K, 2), or (N, K, 3) with root-relative depth in mm (3D; NaN = unknown).
            keypoints_visible (np.ndarray, optional): (N, K) visibility; ``None`` means all visible.

        Returns:
            dict: The encoded fields listed in the class docstring.
        """
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
        """:meth:`encode` of a whole batch with tensor ops on the keypoints' device (the fast training path).

        The labels and weights are :meth:`encode`'s bit for bit; the heatmaps are
        :meth:`MSRAHeatmap.batch_encode <pose_plugins.codecs.BaseHeatmapCodec.batch_encode>`'s (within 1e-6 of the
        per-sample ones) divided by their sums, which torch adds in another order than numpy (a few float32 ulp).

        Args:
            keypoints (Tensor): (B, N, K, 2), or (B, N, K, 3) with root-relative depth in mm (3D).
            keypoints_visible (Tensor, optional): (B, N, K); ``None`` means all visible.

        Returns:
            dict: ``keypoint_labels`` (B, N, K, D), ``keypoint_weights`` (B, N, K), 3D: ``keypoint_depth_weights``
            (B, N, K), and with heatmaps ``heatmaps`` (B, K, H, W); float32.
        """
        keypoints, keypoints_visible = check_batch_keypoints(
            'IntegralRegressionLabel.batch_encode', keypoints, keypoints_visible, (2, 3) if self.is_3d else (2, ))
        encoded = self._encode_labels(keypoints, keypoints_visible)
        if self.with_heatmaps:
            encoded['heatmaps'] = self._normalise(
                self.heatmap_codec.batch_encode(keypoints[..., :2], keypoints_visible)['heatmaps'])
        return encoded

    def _encode_labels(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """Labels and weights (the class docstring's rules) of floating-point keypoints (..., K, D) in input
        pixels (and mm) and visibilities (..., K): ``keypoint_labels`` (..., K, D), ``keypoint_weights`` (..., K)
        and, 3D, ``keypoint_depth_weights`` (..., K), float32; shared by :meth:`encode` and :meth:`batch_encode`.
        """
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
        """Each map divided by its sum when ``normalize`` (0 maps stay 0); numpy (K, H, W) or torch (B, K, H, W)."""
        if not self.normalize:
            return heatmaps
        return heatmaps / (heatmaps.sum(axis=(-1, -2), keepdims=True) + 1e-24)

    @property
    def support_batch_decoding(self) -> bool:
        """True: :meth:`batch_decode` decodes a head's whole batch of coordinates at once."""
        return True

    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Normalised coordinates -> input-image pixels (and root-relative depth in mm).

        Args:
            encoded (np.ndarray): (N, K, 2), or (N, K, 3) in 3D.

        Returns:
            tuple:
            - keypoints (np.ndarray): float32 (N, K, 2) pixels, or (N, K, 3) with root-relative depth in mm.
            - scores (np.ndarray): (N, K), all 1.
        """
        encoded = np.asarray(encoded)
        dims = 3 if self.is_3d else 2
        if encoded.ndim != 3 or encoded.shape[-1] != dims:
            raise ValueError(f'IntegralRegressionLabel.decode: expected normalised coordinates (N, K, {dims}), '
                             f'got shape {encoded.shape}')
        return self._denormalise(encoded)

    def batch_decode(self, encoded: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`decode` of a batch in one step, indexed per sample as mmpose's ``BaseHead.decode`` reads it.

        Args:
            encoded (Tensor | np.ndarray): Normalised coordinates, (B, N, K, 2) or (B, N, K, 3) in 3D.

        Returns:
            tuple:
            - keypoints (np.ndarray): float32, (B, N, K, 2) or (B, N, K, 3).
            - scores (np.ndarray): (B, N, K), all 1.
        """
        encoded = encoded.detach().cpu().numpy() if isinstance(encoded, Tensor) else np.asarray(encoded)
        dims = 3 if self.is_3d else 2
        if encoded.ndim != 4 or encoded.shape[-1] != dims:
            raise ValueError(f'IntegralRegressionLabel.batch_decode: expected normalised coordinates '
                             f'(B, N, K, {dims}), got shape {encoded.shape}')
        return self._denormalise(encoded)

    def _denormalise(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(..., K, D) normalised -> (..., K, D) pixels (and mm), with scores (..., K) of 1."""
        w, h = self.input_size
        scale = np.array([w, h] + ([self.bbox_3d_shape] if self.is_3d else []), dtype=np.float32)
        keypoints = encoded.astype(np.float32) * scale
        if self.is_3d:
            keypoints[..., 2] -= 0.5 * self.bbox_3d_shape
        return keypoints, np.ones(encoded.shape[:-1], dtype=np.float32)
