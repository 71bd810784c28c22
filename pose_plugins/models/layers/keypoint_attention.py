"""Keypoint-attention pooling: per-keypoint feature vectors pooled under the keypoints' own heatmaps.

Kocabas, Huang, Hilliges, Black, "PARE: Part Attention Regressor for 3D Human Body Estimation", ICCV 2021
(https://arxiv.org/abs/2104.08527): instead of one global average of the backbone's features, each body part's
regressor input is the features averaged under that part's spatial attention map, so the regressor sees what is
at each joint and where it is. PARE's ablation also uses keypoint heatmaps as the attention; that is what this
layer does, with heatmaps trained against Gaussian targets (peak 1, values >= 0): the attention of keypoint k
is its heatmap's positive part normalised to sum 1 -- the predicted Gaussian itself once the heatmap has
learned it, about a uniform average over half the map at initialisation (small random values), i.e. global
average pooling. A heatmap with no positive value pools nothing (zeros, no NaN).

Several feature maps (HRNet's branches, the "feat_list"): the attention is average-pooled to each map's size
(block means, sum preserved up to the block area) and normalised again there, so every branch is pooled under
the same attention. The attention's centre of mass on the first map -- a soft-argmax of the keypoint in crop
coordinates ``[-1, 1]`` -- is returned too.

Note:
    B: batch size; K: keypoints; C_b: channels of map b, C = sum of C_b; H_0, W_0: the heatmaps' (and the first
    map's) size.
"""
from typing import Sequence, Tuple

import torch
from torch import Tensor, nn

from .soft_argmax import grid_moments

__all__ = ['keypoint_attention', 'keypoint_attention_pool']

_EPS = 1e-6


def keypoint_attention(heatmaps: Tensor) -> Tensor:
    """Attention weights (B, K, H * W) of heatmaps (B, K, H, W): the positive part over its sum (module
    docstring); all zero for a heatmap without a positive value."""
    if heatmaps.ndim != 4:
        raise ValueError(f'keypoint_attention: heatmaps must be (B, K, H, W), got {tuple(heatmaps.shape)}')
    weights = heatmaps.clamp_min(0.0).flatten(2)
    return weights / weights.sum(dim=-1, keepdim=True).clamp_min(_EPS)


def keypoint_attention_pool(feats: Sequence[Tensor], heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
    """Pool every feature map under every keypoint's attention.

    Args:
        feats (Sequence[Tensor]): Feature maps (B, C_b, H_b, W_b), each no larger than the heatmaps.
        heatmaps (Tensor): (B, K, H_0, W_0).

    Returns:
        Tuple[Tensor, Tensor]: pooled features (B, K, C) (the maps' channels concatenated in order) and the
        attention's centre of mass (B, K, 2) as ``(x, y)`` in crop coordinates ``[-1, 1]`` (pixel centres
        ``2 (i + 0.5) / W_0 - 1``; 0 for an all-zero attention).
    """
    size = tuple(heatmaps.shape[-2:])
    first = keypoint_attention(heatmaps)  # (B, K, H_0 * W_0)
    pooled = []
    for index, feat in enumerate(feats):
        if feat.ndim != 4 or feat.shape[0] != heatmaps.shape[0]:
            raise ValueError(f'keypoint_attention_pool: feature map {index} {tuple(feat.shape)} must be (B, C, H, '
                             f'W) with the heatmaps\' batch size B = {heatmaps.shape[0]}')
        if feat.shape[-2] > size[0] or feat.shape[-1] > size[1]:
            raise ValueError(f'keypoint_attention_pool: feature map {index} is {tuple(feat.shape[-2:])}, larger '
                             f'than the heatmaps {size}; predict the heatmaps from the largest map')
        weights = first if tuple(feat.shape[-2:]) == size else keypoint_attention(
            nn.functional.adaptive_avg_pool2d(heatmaps.clamp_min(0.0), feat.shape[-2:]))
        pooled.append(torch.einsum('bkn,bcn->bkc', weights, feat.flatten(2)))
    # pixel centres 2 (i + 0.5) / S - 1 of the W columns and H rows
    grids = [(torch.arange(n, dtype=first.dtype, device=first.device) + 0.5) * (2.0 / n) - 1.0
             for n in (size[1], size[0])]
    centre = grid_moments(first.unflatten(-1, (1, ) + size), grids)  # (B, K, 1, H_0, W_0): one depth bin
    return torch.cat(pooled, dim=2), centre
