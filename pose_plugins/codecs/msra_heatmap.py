"""The "MSRA" Gaussian heatmap codec of SimpleBaseline and HRNet, with the optional DARK variant."""
from typing import Dict, Tuple

import numpy as np
from torch import Tensor

from pose_plugins.registry import KEYPOINT_CODECS
from .base_heatmap_codec import BaseHeatmapCodec, check_odd_kernel_size, check_positive_real
from .utils.batch_encode import gaussian_heatmaps_tensor
from .utils.gaussian import generate_gaussian_heatmaps, generate_unbiased_gaussian_heatmaps
from .utils.heatmap_decode import decode_heatmaps

__all__ = ['MSRAHeatmap']


@KEYPOINT_CODECS.register_module()
class MSRAHeatmap(BaseHeatmapCodec):
    """Keypoints <-> unnormalized Gaussian heatmaps ("MSRA" heatmaps), optionally with DARK.

    Encoding draws, per keypoint, ``exp(-((x - mx)^2 + (y - my)^2) / (2 sigma^2))`` (peak 1, ``sigma`` in heatmap
    pixels) on the heatmap of its keypoint type; the centre ``m`` is the keypoint divided by the stride
    ``input_size / heatmap_size`` and rounded with ``int(m + 0.5)``, and the Gaussian is cut to a 3-sigma window.
    With ``unbiased=True`` (DARK) the centre is the exact sub-pixel location and the Gaussian covers the whole map.
    Keypoints with visibility < 0.5 are not drawn and keep their visibility as weight; a labelled keypoint whose
    3-sigma window misses the map gets weight 0.

    Decoding takes each map's argmax and moves it a quarter pixel toward the higher neighbour along x and y
    (SimpleBaseline), or, with ``unbiased=True``, blurs the map with a ``blur_kernel_size`` Gaussian and takes one
    Newton step on its logarithm (DARK); the result is multiplied by the stride. Decoding runs on a whole batch of
    torch heatmaps at once, on their device, without Python loops (:meth:`decode_heatmaps`); mmpose's heads reach
    it through :meth:`batch_decode` (``support_batch_decoding`` is True, see
    :class:`~pose_plugins.codecs.base_heatmap_codec.BaseHeatmapCodec`).

    Papers: Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018
    (https://arxiv.org/abs/1804.06208); Sun et al., "Deep High-Resolution Representation Learning for Human Pose
    Estimation", CVPR 2019 (https://arxiv.org/abs/1902.09212); Zhang et al., "Distribution-Aware Coordinate
    Representation for Human Pose Estimation", CVPR 2020 (https://arxiv.org/abs/1910.06278).

    Same numbers as ``mmpose.codecs.MSRAHeatmap`` (mmpose 1.3.2): ``encode`` bit for bit, ``decode`` bit for bit
    without DARK and to float32 rounding with it (the blur is evaluated only around each maximum, with the same
    taps as ``cv2.GaussianBlur``; the 2x2 Newton system is solved in closed form instead of ``np.linalg.inv``).
    Differences, all at inputs mmpose rejects or leaves unspecified:

    - ``encode`` accepts N >= 1 instances and merges them with an element-wise maximum (as mmpose's
      ``generate_gaussian_heatmaps`` / ``generate_unbiased_gaussian_heatmaps`` do); mmpose's codec asserts N == 1.
    - ``keypoint_weights`` are always float32 (mmpose keeps the dtype of ``keypoints_visible``).
    - Arguments are validated with errors naming the bad value: sizes, ``sigma``, ``blur_kernel_size`` (odd,
      >= 1; 1 means no DARK modulation, where mmpose's blur fails), keypoint shapes, non-finite coordinates of
      labelled keypoints, and a heatmap size different from ``heatmap_size`` in ``decode``.

    Note:
        - N: number of instances (1 in top-down)
        - K: number of keypoints
        - B: batch size (:meth:`decode_heatmaps`, :meth:`batch_decode`)
        - [w, h]: ``input_size``; [W, H]: ``heatmap_size``

    Encoded:
        - heatmaps (np.ndarray): float32, (K, H, W)
        - keypoint_weights (np.ndarray): float32, (N, K)

    Batch-encoded (:meth:`batch_encode`, tensors on the keypoints' device): heatmaps (B, K, H, W) and
    keypoint_weights (B, N, K), float32; equal to :meth:`encode` of each sample to float32 rounding (< 1e-6).

    Args:
        input_size (Tuple[int, int]): Input image size [w, h].
        heatmap_size (Tuple[int, int]): Heatmap size [W, H].
        sigma (float): Gaussian standard deviation in heatmap pixels, > 0 (2 for 64x48 maps in the papers).
        unbiased (bool): Use DARK encoding and decoding. Defaults to False.
        blur_kernel_size (int): Odd size of DARK's modulation kernel, whose sigma is
            ``0.3 * ((blur_kernel_size - 1) * 0.5 - 1) + 0.8``: 11 matches sigma 2, 17 sigma 3. Defaults to 11.
    """

    def __init__(self,
                 *,
                 input_size: Tuple[int, int],
                 heatmap_size: Tuple[int, int],
                 sigma: float,
                 unbiased: bool = False,
                 blur_kernel_size: int = 11) -> None:
        super().__init__(input_size=input_size, heatmap_size=heatmap_size)
        self.sigma = check_positive_real('sigma', sigma, 'heatmap pixels')
        if not isinstance(unbiased, (bool, np.bool_)):
            raise ValueError(f'unbiased must be a bool, got {unbiased!r}')
        self.unbiased = bool(unbiased)
        self.blur_kernel_size = check_odd_kernel_size('blur_kernel_size', blur_kernel_size)

    def encode_heatmaps(self, keypoints: np.ndarray, keypoints_visible: np.ndarray) -> dict:
        """``heatmaps`` (K, H, W) and ``keypoint_weights`` (N, K), float32, of keypoints in heatmap pixels."""
        generate = generate_unbiased_gaussian_heatmaps if self.unbiased else generate_gaussian_heatmaps
        heatmaps, keypoint_weights = generate(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            sigma=self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def encode_heatmaps_tensor(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """``heatmaps`` (B, K, H, W) and ``keypoint_weights`` (B, N, K), float32, of a batch of keypoints in
        heatmap pixels (B, N, K, 2), on their device: :meth:`encode_heatmaps` of each sample to float32 rounding
        (< 1e-6, :mod:`pose_plugins.codecs.utils.batch_encode`)."""
        heatmaps, keypoint_weights = gaussian_heatmaps_tensor(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            sigma=self.sigma, unbiased=self.unbiased)
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def decode_heatmaps(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """Argmax + quarter-pixel shift (or DARK), times the stride; loop-free on the heatmaps' device.

        Args:
            heatmaps (Tensor): (B, K, H, W).

        Returns:
            Tuple[Tensor, Tensor]:
            - keypoints (Tensor): float32 in input pixels, (B, K, 2); ``-stride`` where a map's maximum is
              ``<= 0``.
            - scores (Tensor): Each map's maximum, (B, K).
        """
        keypoints, scores = decode_heatmaps(heatmaps, unbiased=self.unbiased, blur_kernel_size=self.blur_kernel_size)
        return keypoints * self._stride(keypoints), scores
