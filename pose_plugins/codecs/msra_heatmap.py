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
    """Keypoints <-> unnormalized Gaussian ("MSRA") heatmaps, optionally with DARK.

    Encoding: a peak-1 Gaussian at the rounded keypoint, cut at 3 sigma (DARK: sub-pixel, whole map); decoding:
    argmax and a quarter-pixel step (DARK: a Newton step on the blurred log). Papers: SimpleBaseline
    (https://arxiv.org/abs/1804.06208), HRNet (1902.09212), DARK (1910.06278). As mmpose 1.3.2's ``MSRAHeatmap``
    (DARK decoding to float32 rounding), plus N >= 1 instances, float32 weights and batched decoding.

    Note: N instances, K keypoints, [w, h] ``input_size``, [W, H] ``heatmap_size``.
    Encoded: heatmaps (np.ndarray): float32 (K, H, W); keypoint_weights (np.ndarray): float32 (N, K).

    Args:
        input_size, heatmap_size (Tuple[int, int]): [w, h] and [W, H].
        sigma (float): Gaussian standard deviation in heatmap pixels (2 at 64x48).
        unbiased (bool): DARK encoding and decoding. Defaults to False.
        blur_kernel_size (int): Odd DARK modulation kernel size: 11 for sigma 2, 17 for sigma 3. Defaults to 11.
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
        """heatmaps (K, H, W) and keypoint_weights (N, K), float32."""
        generate = generate_unbiased_gaussian_heatmaps if self.unbiased else generate_gaussian_heatmaps
        heatmaps, keypoint_weights = generate(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            sigma=self.sigma)
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def encode_heatmaps_tensor(self, keypoints: Tensor, keypoints_visible: Tensor) -> Dict[str, Tensor]:
        """heatmaps (B, K, H, W) and keypoint_weights (B, N, K), float32."""
        heatmaps, keypoint_weights = gaussian_heatmaps_tensor(
            heatmap_size=self.heatmap_size, keypoints=keypoints, keypoints_visible=keypoints_visible,
            sigma=self.sigma, unbiased=self.unbiased)
        return dict(heatmaps=heatmaps, keypoint_weights=keypoint_weights)

    def decode_heatmaps(self, heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
        """Keypoints (B, K, 2) in input pixels (``-stride`` where the maximum is <= 0) and scores (B, K)."""
        keypoints, scores = decode_heatmaps(heatmaps, unbiased=self.unbiased, blur_kernel_size=self.blur_kernel_size)
        return keypoints * self._stride(keypoints), scores
