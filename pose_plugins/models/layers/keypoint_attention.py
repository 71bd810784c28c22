"""Keypoint-attention pooling: per-keypoint feature vectors pooled under the keypoints' own heatmaps.

PARE (Kocabas, Huang, Hilliges, Black, ICCV 2021, https://arxiv.org/abs/2104.08527) feeds each body part's
regressor the features averaged under that part's attention map; as in PARE's ablation, the attention here is the
keypoint heatmap: its positive part normalised to sum 1 (all zero, no NaN, without a positive value). For several
feature maps (HRNet's branches) it is average-pooled to each map's size and renormalised. The attention's centre of
mass (a soft-argmax in crop coordinates ``[-1, 1]``, optionally local around the maximum) is returned too;
:func:`normalise_centres` removes its translation and scale per pose (Martinez et al., ICCV 2017, standardise the
2D input over the data set instead).

Note:
    B: batch size; K: keypoints; C_b: channels of map b, C = sum of C_b; H_0, W_0: the heatmaps' (and the first
    map's) size.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .soft_argmax import grid_moments

__all__ = ['keypoint_attention', 'keypoint_attention_pool', 'local_centres', 'normalise_centres']

_EPS = 1e-6


def keypoint_attention(heatmaps: Tensor) -> Tensor:
    """Attention weights (B, K, H * W) of heatmaps (B, K, H, W): the positive part over its sum; all zero for a
    heatmap without a positive value."""
    if heatmaps.ndim != 4:
        raise ValueError(f'keypoint_attention: heatmaps must be (B, K, H, W), got {tuple(heatmaps.shape)}')
    weights = heatmaps.clamp_min(0.0).flatten(2)
    return weights / weights.sum(dim=-1, keepdim=True).clamp_min(_EPS)


def _pixel_grids(height: int, width: int, like: Tensor) -> Tuple[Tensor, Tensor]:
    """Pixel centres ``2 (i + 0.5) / S - 1`` of the W columns and the H rows."""
    return tuple((torch.arange(n, dtype=like.dtype, device=like.device) + 0.5) * (2.0 / n) - 1.0
                 for n in (width, height))


def local_centres(heatmaps: Tensor, radius: int) -> Tensor:
    """Centre of mass of each heatmap's positive part within ``radius`` cells (Chebyshev) of its maximum.

    Args:
        heatmaps (Tensor): (B, K, H, W).
        radius (int): >= 0; 0 gives the argmax cell's centre.

    Returns:
        Tensor: (B, K, 2) ``(x, y)`` in crop coordinates ``[-1, 1]`` (pixel centres as
        :func:`keypoint_attention_pool`'s); the argmax cell's centre where the window has no positive value.
        Differentiable in the values inside the window (the window itself is not).
    """
    if heatmaps.ndim != 4:
        raise ValueError(f'local_centres: heatmaps must be (B, K, H, W), got {tuple(heatmaps.shape)}')
    if not isinstance(radius, int) or isinstance(radius, bool) or radius < 0:
        raise ValueError(f'local_centres: radius must be an int >= 0, got {radius!r}')
    height, width = heatmaps.shape[-2:]
    peak = heatmaps.flatten(2).argmax(dim=-1)  # (B, K)
    row, col = peak // width, peak % width
    rows = torch.arange(height, device=heatmaps.device)
    cols = torch.arange(width, device=heatmaps.device)
    window = (((rows[:, None] - row[..., None, None]).abs() <= radius)
              & ((cols[None, :] - col[..., None, None]).abs() <= radius))  # (B, K, H, W)
    weights = heatmaps.clamp_min(0.0) * window
    total = weights.sum(dim=(2, 3))  # (B, K)
    cells = torch.arange(height * width, device=heatmaps.device).view(height, width)
    fallback = (peak[..., None, None] == cells).to(heatmaps.dtype)  # broadcast: no batch size in an exported graph
    has_mass = (total > 0)[..., None, None]
    weights = torch.where(has_mass, weights / total.clamp_min(_EPS)[..., None, None], fallback)
    return grid_moments(weights.unsqueeze(2), _pixel_grids(height, width, heatmaps))


def normalise_centres(centres: Tensor) -> Tensor:
    """Centres (B, K, 2) -> (B, K, 2) less their mean, over their RMS distance from it (all zero where the K
    centres coincide)."""
    if centres.ndim != 3 or centres.shape[-1] != 2:
        raise ValueError(f'normalise_centres: centres must be (B, K, 2), got {tuple(centres.shape)}')
    offsets = centres - centres.mean(dim=1, keepdim=True)
    # clamped before the square root, whose gradient at 0 is infinite
    spread = offsets.pow(2).sum(dim=2).mean(dim=1).clamp_min(_EPS**2).sqrt()  # (B,)
    return offsets / spread[:, None, None]


def keypoint_attention_pool(feats: Sequence[Tensor], heatmaps: Tensor, *,
                            centre_radius: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    """Pool every feature map under every keypoint's attention.

    Args:
        feats (Sequence[Tensor]): Feature maps (B, C_b, H_b, W_b), each no larger than the heatmaps.
        heatmaps (Tensor): (B, K, H_0, W_0).
        centre_radius (int, optional): ``None``: the centre of the whole attention; ``r``: of the cells within
            ``r`` of the maximum (:func:`local_centres`).

    Returns:
        Tuple[Tensor, Tensor]: pooled features (B, K, C) (the maps' channels concatenated in order) and the
        attention's centre of mass (B, K, 2) as ``(x, y)`` in crop coordinates ``[-1, 1]`` (pixel centres
        ``2 (i + 0.5) / W_0 - 1``; 0 for an all-zero attention without ``centre_radius``).
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
    if centre_radius is not None:
        return torch.cat(pooled, dim=2), local_centres(heatmaps, centre_radius)
    # (B, K, 1, H_0, W_0): one depth bin
    centre = grid_moments(first.unflatten(-1, (1, ) + size), _pixel_grids(*size, first))
    return torch.cat(pooled, dim=2), centre
