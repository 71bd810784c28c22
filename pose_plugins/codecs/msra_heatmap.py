"""The "MSRA" Gaussian heatmap codec of SimpleBaseline and HRNet, with the optional DARK variant."""
import math
from numbers import Integral, Real
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch
from mmpose.codecs.base import BaseKeypointCodec
from torch import Tensor

from pose_plugins.registry import KEYPOINT_CODECS
from .utils.gaussian import generate_gaussian_heatmaps, generate_unbiased_gaussian_heatmaps
from .utils.heatmap_decode import decode_heatmaps

__all__ = ['MSRAHeatmap']


def _check_size(name: str, value: Any) -> Tuple[int, int]:
    """``value`` as a ``(width, height)`` pair of positive ints, or a ValueError naming ``name``."""
    if (not isinstance(value, Sequence) and not isinstance(value, np.ndarray)) or len(value) != 2 or not all(
            isinstance(v, Integral) and not isinstance(v, (bool, np.bool_)) and v > 0 for v in value):
        raise ValueError(f'{name} must be 2 positive ints (width, height), got {value!r}')
    return int(value[0]), int(value[1])


@KEYPOINT_CODECS.register_module()
class MSRAHeatmap(BaseKeypointCodec):
    """Keypoints <-> unnormalized Gaussian heatmaps ("MSRA" heatmaps), optionally with DARK.

    Encoding draws, per keypoint, ``exp(-((x - mx)^2 + (y - my)^2) / (2 sigma^2))`` (peak 1, ``sigma`` in heatmap
    pixels) on the heatmap of its keypoint type; the centre ``m`` is the keypoint divided by the stride
    ``input_size / heatmap_size`` and rounded with ``int(m + 0.5)``, and the Gaussian is cut to a 3-sigma window.
    With ``unbiased=True`` (DARK) the centre is the exact sub-pixel location and the Gaussian covers the whole map.
    Keypoints with visibility < 0.5 are not drawn and keep their visibility as weight; a labelled keypoint whose
    3-sigma window misses the map gets weight 0.

    Decoding takes each map's argmax and moves it a quarter pixel toward the higher neighbour along x and y
    (SimpleBaseline), or, with ``unbiased=True``, blurs the map with a ``blur_kernel_size`` Gaussian and takes one
    Newton step on its logarithm (DARK); the result is multiplied by the stride. :meth:`batch_decode` does the same
    for a batch of torch heatmaps, on their device, without Python loops.

    Papers: Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018
    (https://arxiv.org/abs/1804.06208); Sun et al., "Deep High-Resolution Representation Learning for Human Pose
    Estimation", CVPR 2019 (https://arxiv.org/abs/1902.09212); Zhang et al., "Distribution-Aware Coordinate
    Representation for Human Pose Estimation", CVPR 2020 (https://arxiv.org/abs/1910.06278).

    Same numbers as ``mmpose.codecs.MSRAHeatmap`` (mmpose 1.3.2): ``encode`` bit for bit, ``decode`` bit for bit
    without DARK and to float32 rounding with it (the blur is a torch convolution instead of ``cv2.GaussianBlur``,
    the 2x2 Newton system is solved in closed form instead of ``np.linalg.inv``). Differences, all at inputs mmpose
    rejects or leaves unspecified:

    - ``encode`` accepts N >= 1 instances and merges them with an element-wise maximum (as mmpose's
      ``generate_gaussian_heatmaps`` / ``generate_unbiased_gaussian_heatmaps`` do); mmpose's codec asserts N == 1.
    - ``keypoint_weights`` are always float32 (mmpose keeps the dtype of ``keypoints_visible``).
    - Arguments are validated with errors naming the bad value: sizes, ``sigma``, ``blur_kernel_size`` (odd,
      >= 1; 1 means no DARK modulation, where mmpose's blur fails), keypoint shapes, non-finite coordinates of
      labelled keypoints, and a heatmap size different from ``heatmap_size`` in ``decode``.
    - :meth:`batch_decode` returns batched torch tensors (``(B, K, 2)``, ``(B, K)``) rather than mmpose's lists of
      per-sample numpy arrays, so :attr:`support_batch_decoding` stays ``False`` and mmpose's heads keep calling
      :meth:`decode` per sample.

    Note:
        - N: number of instances (1 in top-down)
        - K: number of keypoints
        - B: batch size (:meth:`batch_decode`)
        - [w, h]: ``input_size``; [W, H]: ``heatmap_size``

    Encoded:
        - heatmaps (np.ndarray): float32, (K, H, W)
        - keypoint_weights (np.ndarray): float32, (N, K)

    Args:
        input_size (Tuple[int, int]): Input image size [w, h].
        heatmap_size (Tuple[int, int]): Heatmap size [W, H].
        sigma (float): Gaussian standard deviation in heatmap pixels, > 0 (2 for 64x48 maps in the papers).
        unbiased (bool): Use DARK encoding and decoding. Defaults to False.
        blur_kernel_size (int): Odd size of DARK's modulation kernel, whose sigma is
            ``0.3 * ((blur_kernel_size - 1) * 0.5 - 1) + 0.8``: 11 matches sigma 2, 17 sigma 3. Defaults to 11.
    """

    label_mapping_table = dict(keypoint_weights='keypoint_weights')
    field_mapping_table = dict(heatmaps='heatmaps')
    instance_mapping_table = dict()

    def __init__(self,
                 *,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 sigma: float,
                 unbiased: bool = False,
                 blur_kernel_size: int = 11) -> None:
        super().__init__()
        self.input_size = _check_size('input_size', input_size)
        self.heatmap_size = _check_size('heatmap_size', heatmap_size)
        if isinstance(sigma, (bool, np.bool_)) or not isinstance(sigma, Real) or not (
                math.isfinite(sigma) and sigma > 0):
            raise ValueError(f'sigma must be a finite number > 0 (heatmap pixels), got {sigma!r}')
        if not isinstance(unbiased, (bool, np.bool_)):
            raise ValueError(f'unbiased must be a bool, got {unbiased!r}')
        if isinstance(blur_kernel_size, (bool, np.bool_)) or not isinstance(
                blur_kernel_size, Integral) or blur_kernel_size < 1 or blur_kernel_size % 2 != 1:
            raise ValueError(f'blur_kernel_size must be an odd int >= 1, got {blur_kernel_size!r}')
        self.sigma = float(sigma)
        self.unbiased = bool(unbiased)
        self.blur_kernel_size = int(blur_kernel_size)
        # Stride of the heatmap in input pixels, [w / W, h / H], float32 as in mmpose.
        self.scale_factor = (np.array(self.input_size) / np.array(self.heatmap_size)).astype(np.float32)

    @property
    def support_batch_decoding(self) -> bool:
        """False: mmpose's heads expect ``batch_decode`` to return per-sample numpy lists, ours returns tensors."""
        return False

    def encode(self, keypoints: np.ndarray, keypoints_visible: Optional[np.ndarray] = None) -> dict:
        """Render the target heatmaps and keypoint weights.

        Args:
            keypoints (np.ndarray): Keypoint coordinates in input-image pixels, (N, K, 2).
            keypoints_visible (np.ndarray, optional): Visibilities, (N, K); ``None`` means all visible.

        Returns:
            dict:
            - heatmaps (np.ndarray): float32, (K, H, W).
            - keypoint_weights (np.ndarray): float32, (N, K).
        """
        keypoints = np.asarray(keypoints)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f'keypoints must have shape (N, K, 2), got {keypoints.shape}')
        if not np.issubdtype(keypoints.dtype, np.number):
            raise ValueError(f'keypoints must be numeric, got dtype {keypoints.dtype}')
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
        keypoints_visible = np.asarray(keypoints_visible)
        if keypoints_visible.shape != keypoints.shape[:2]:
            raise ValueError(f'keypoints_visible must have shape (N, K) = {keypoints.shape[:2]} to match '
                             f'keypoints {keypoints.shape}, got {keypoints_visible.shape}')
        if not np.isfinite(keypoints_visible).all():
            raise ValueError('keypoints_visible must be finite, got non-finite values')
        labelled = keypoints_visible >= 0.5
        if not np.isfinite(keypoints[labelled]).all():
            raise ValueError('keypoints must be finite where keypoints_visible >= 0.5, got non-finite '
                             'coordinates at (instance, keypoint) '
                             f'{np.argwhere(labelled & ~np.isfinite(keypoints).all(-1)).tolist()}')

        generate = generate_unbiased_gaussian_heatmaps if self.unbiased else generate_gaussian_heatmaps
        heatmaps, keypoint_weights = generate(
            heatmap_size=self.heatmap_size,
            keypoints=keypoints / self.scale_factor,
            keypoints_visible=keypoints_visible,
            sigma=self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def decode(self, encoded: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints of one sample, in input-image pixels.

        Args:
            encoded (np.ndarray): Heatmaps, (K, H, W).

        Returns:
            Tuple[np.ndarray, np.ndarray]:
            - keypoints (np.ndarray): float32, (1, K, 2); ``-stride`` where a map's maximum is ``<= 0``.
            - scores (np.ndarray): Each map's maximum, (1, K).
        """
        if not isinstance(encoded, np.ndarray):
            raise TypeError(f'encoded must be a numpy array of heatmaps (K, H, W), got {type(encoded).__name__}')
        self._check_heatmaps_shape('encoded', tuple(encoded.shape), 3)
        if encoded.dtype not in (np.float32, np.float64):
            encoded = encoded.astype(np.float32)
        keypoints, scores = decode_heatmaps(
            torch.from_numpy(np.ascontiguousarray(encoded))[None],
            unbiased=self.unbiased,
            blur_kernel_size=self.blur_kernel_size)
        return keypoints.numpy() * self.scale_factor, scores.numpy()

    def batch_decode(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """Keypoints of a batch, in input-image pixels, on the heatmaps' device, loop-free (DARK included).

        Per sample equal to :meth:`decode` (``keypoints[b] == decode(heatmaps[b].numpy())[0][0]``).

        Args:
            heatmaps (Tensor): (B, K, H, W).

        Returns:
            Tuple[Tensor, Tensor]:
            - keypoints (Tensor): float32, (B, K, 2).
            - scores (Tensor): Each map's maximum, (B, K).
        """
        if not isinstance(heatmaps, Tensor):
            raise TypeError(f'heatmaps must be a torch.Tensor (B, K, H, W), got {type(heatmaps).__name__}')
        self._check_heatmaps_shape('heatmaps', tuple(heatmaps.shape), 4)
        if not heatmaps.is_floating_point():
            heatmaps = heatmaps.float()
        keypoints, scores = decode_heatmaps(
            heatmaps, unbiased=self.unbiased, blur_kernel_size=self.blur_kernel_size)
        return keypoints * torch.from_numpy(self.scale_factor).to(keypoints.device), scores

    def _check_heatmaps_shape(self, name: str, shape: Tuple[int, ...], ndim: int) -> None:
        """Raise a ValueError naming ``name`` unless ``shape`` has ``ndim`` dims and ends with (H, W)."""
        W, H = self.heatmap_size
        layout = '(K, H, W)' if ndim == 3 else '(B, K, H, W)'
        if len(shape) != ndim or shape[-2:] != (H, W):
            raise ValueError(f'{name} must have shape {layout} with (H, W) = {(H, W)} from heatmap_size '
                             f'{self.heatmap_size}, got {shape}')
