"""Helpers of the heatmap codecs: Gaussian targets (per sample and batched) and batched decoding."""
from .batch_encode import blurred_one_hot_heatmaps_tensor, gaussian_heatmaps_tensor
from .gaussian import generate_gaussian_heatmaps, generate_unbiased_gaussian_heatmaps
from .heatmap_decode import (blur_heatmaps, dark_blur_kernel, decode_heatmaps, flat_argmax, flat_index_to_xy,
                             get_heatmap_maximum, modulate_heatmaps, refine_keypoints_dark,
                             refine_keypoints_quarter_offset)

__all__ = [
    'gaussian_heatmaps_tensor', 'blurred_one_hot_heatmaps_tensor', 'generate_gaussian_heatmaps',
    'generate_unbiased_gaussian_heatmaps', 'blur_heatmaps', 'dark_blur_kernel',
    'decode_heatmaps', 'flat_argmax', 'flat_index_to_xy', 'get_heatmap_maximum', 'modulate_heatmaps',
    'refine_keypoints_dark', 'refine_keypoints_quarter_offset'
]
