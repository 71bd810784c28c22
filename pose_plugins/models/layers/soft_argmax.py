"""Soft-argmax over 2D heatmaps (Sun et al., "Integral Human Pose Regression", ECCV 2018) or 3D volumes
(Moon et al., 3DMPPE PoseNet, ICCV 2019), optionally debiased (Gu et al., ICCV 2021).
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ['SoftArgmax', 'grid_moments']


def grid_moments(weights: Tensor, grids: Sequence[Tensor]) -> Tensor:
    """Weights (B, K, D, H, W) times the x, y (, z) ``grids``, summed -> (B, K, len(grids))."""
    dims = ((2, 3), (2, 4), (3, 4))[:len(grids)]  # marginal over the other axes: x, y, z
    return torch.stack([(weights.sum(dim=d) * g).sum(dim=-1) for d, g in zip(dims, grids)], dim=-1)


class SoftArgmax(nn.Module):
    """Softmax over each keypoint's ``D x H x W`` volume, then the expected location; index ``i`` of an axis of
    size ``S`` has coordinate ``i / S`` (as mmpose's ``IntegralRegressionHead``).

    ``debias`` takes the expectation under ``max(exp(beta * logits) - 1, 0)``, Gu et al.'s bias-free ``J*``: equal
    to their closed form for logits >= 0 and bounded otherwise. mmpose's ``debias`` is a much smaller correction.

    Args:
        map_size (tuple[int, int, int]): ``(D, H, W)``; D = 1 for 2D.
        beta (float): Logit multiplier (> 0). Default: 1.0.
        debias (bool): Remove the softmax's uniform part. Default: False.
    """

    def __init__(self, *, map_size: tuple, beta: float = 1.0, debias: bool = False) -> None:
        super().__init__()
        if len(map_size) != 3 or not all(isinstance(s, int) and s >= 1 for s in map_size):
            raise ValueError(f'SoftArgmax: map_size must be 3 positive ints (D, H, W), got {map_size!r}')
        if not beta > 0:
            raise ValueError(f'SoftArgmax: beta must be > 0, got {beta!r}')
        self.map_size = tuple(map_size)
        self.beta = float(beta)
        self.debias = bool(debias)
        depth, height, width = self.map_size
        self.register_buffer('grid_x', torch.arange(width, dtype=torch.float32) / width, persistent=False)
        self.register_buffer('grid_y', torch.arange(height, dtype=torch.float32) / height, persistent=False)
        self.register_buffer('grid_z', torch.arange(depth, dtype=torch.float32) / depth, persistent=False)

    def extra_repr(self) -> str:
        return f'map_size={self.map_size}, beta={self.beta}, debias={self.debias}'

    def forward(self, logits: Tensor) -> tuple:
        """Logits (B, K * D, H, W) (channel ``k * D + d``) or (B, K, D, H, W) -> coords (B, K, 2) ``(x, y)``
        for D = 1, else (B, K, 3), in [0, 1); and probs (B, K, D, H, W).
        """
        depth, height, width = self.map_size
        if logits.ndim == 4:
            if logits.shape[1] % depth or tuple(logits.shape[2:]) != (height, width):
                raise ValueError(f'SoftArgmax: logits of shape {tuple(logits.shape)} do not fit map_size '
                                 f'(D, H, W) = {self.map_size}: expected (B, K * {depth}, {height}, {width})')
            logits = logits.reshape(logits.shape[0], -1, depth, height, width)
        elif logits.ndim != 5 or tuple(logits.shape[2:]) != self.map_size:
            raise ValueError(f'SoftArgmax: expected logits (B, K * D, H, W) or (B, K, D, H, W) with (D, H, W) = '
                             f'{self.map_size}, got {tuple(logits.shape)}')
        batch, keypoints = logits.shape[:2]
        scaled = logits.flatten(2) * self.beta
        probs = F.softmax(scaled, dim=2).reshape(batch, keypoints, depth, height, width)

        grids = [self.grid_x, self.grid_y] + ([self.grid_z] if depth > 1 else [])
        coords = grid_moments(probs, grids)

        if self.debias:
            coords = self._debiased(scaled, grids, coords)
        return coords, probs

    def _debiased(self, scaled: Tensor, grids: list, plain: Tensor) -> Tensor:
        depth, height, width = self.map_size
        peak = scaled.amax(dim=2, keepdim=True)
        # exp(scaled) - 1 = exp(peak) * (exp(scaled - peak) - exp(-peak)); the common factor cancels.
        weights = (torch.exp(scaled - peak) - torch.exp(-peak)).clamp(min=0.0)
        total = weights.sum(dim=2)
        moments = grid_moments(weights.reshape(*scaled.shape[:2], depth, height, width), grids)
        has_peak = (total > 0).unsqueeze(-1)
        return torch.where(has_peak, moments / total.clamp(min=torch.finfo(total.dtype).tiny).unsqueeze(-1), plain)
