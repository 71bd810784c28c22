"""Soft-argmax (integral) over a 2D heatmap or a 3D heatmap volume, with optional bias removal.

Sun et al., "Integral Human Pose Regression", ECCV 2018 (https://arxiv.org/abs/1711.08229): normalise each
keypoint's logits with a softmax over every location and take the expectation of the location. Moon et al.,
"Camera Distance-aware Top-down Approach for 3D Multi-person Pose Estimation from a Single RGB Image", ICCV 2019
(https://arxiv.org/abs/1907.11346, 3DMPPE PoseNet) does the same over a D x H x W volume per keypoint.
Gu et al., "Removing the Bias of Integral Pose Regression", ICCV 2021: the softmax gives every location a weight
of at least ``exp(0)``, which pulls the expectation toward the centre of the map; :class:`SoftArgmax` with
``debias=True`` removes that uniform part exactly (see :meth:`SoftArgmax.forward`).
"""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ['SoftArgmax', 'grid_moments']


def grid_moments(weights: Tensor, grids: Sequence[Tensor]) -> Tensor:
    """First moments of location weights (B, K, D, H, W) along x, y (and z when three grids are given): the sum
    over locations of weight times coordinate, -> (B, K, len(grids)); the expected location when the weights sum
    to 1 per keypoint. ``grids``: the coordinates of the W columns, the H rows (and the D depth bins)."""
    dims = ((2, 3), (2, 4), (3, 4))[:len(grids)]  # marginal over the other axes: x, y, z
    return torch.stack([(weights.sum(dim=d) * g).sum(dim=-1) for d, g in zip(dims, grids)], dim=-1)


class SoftArgmax(nn.Module):
    """Softmax over each keypoint's whole ``D x H x W`` volume, then the expected normalised location.

    Coordinates are normalised by the map size: location index ``i`` along an axis of size ``S`` has coordinate
    ``i / S`` (mmpose's ``IntegralRegressionHead`` convention, so that ``x_norm * input_width`` is the input pixel
    when the map has stride ``input_width / W``). The grids are non-persistent buffers: they move with the module
    between devices and dtypes and never enter a checkpoint.

    Debias (Gu et al., ICCV 2021): with ``e = exp(beta * logits)`` over ``n = D * H * W`` locations, write
    ``e = 1 + (e - 1)``: the softmax expectation ``J`` mixes the grid's mean ``u`` (what the uniform part
    contributes; ``(S_a - 1) / (2 S_a)`` along an axis of size ``S_a``) with ``J*``, the expectation under the
    weights ``e - 1`` -- the location the peak alone encodes. Gu et al. solve for it in closed form,
    ``J* = C / (C - 1) * (J - u / C)`` with ``C = mean(e)``. We compute ``J*`` directly as the expectation under
    ``max(e - 1, 0)`` (shifted by the maximum logit, so it cannot overflow): identical to the closed form whenever
    every logit is >= 0 (their assumption; a test checks it), but bounded when it is not. The closed form divides
    by ``C - 1``, which is 0 when the logits are all near 0, as they are at initialisation; where no logit is
    > 0 there is no peak to recover and the plain expectation is returned. mmpose's
    ``IntegralRegressionHead(debias=True)`` uses ``C = sum(exp(logits))`` (not divided by ``n``, without ``beta``)
    and ``u = 1/2``: for a 64 x 64 map its correction is about 4096 times smaller than Gu et al.'s.

    Note:
        - B: batch size
        - K: number of keypoints
        - D: depth bins (1 for 2D), H, W: map height and width

    Args:
        map_size (tuple[int, int, int]): ``(D, H, W)``.
        beta (float): Softmax temperature: the logits are multiplied by ``beta`` (> 0). Defaults to 1.0.
        debias (bool): Remove the uniform part of the softmax as above. Defaults to False.

    Shapes:
        - input: logits (B, K * D, H, W), channel ``k * D + d`` = keypoint ``k``, depth bin ``d`` (3DMPPE's
          layout), or (B, K, D, H, W)
        - output: coordinates (B, K, 2) for D = 1 as ``(x, y)``, else (B, K, 3) as ``(x, y, z)``, in [0, 1);
          probabilities (B, K, D, H, W) summing to 1 over the last three dimensions
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
        """Expected normalised location of each keypoint.

        Args:
            logits (Tensor): (B, K * D, H, W) or (B, K, D, H, W).

        Returns:
            tuple:
            - coords (Tensor): (B, K, 2) if D == 1 else (B, K, 3), normalised to [0, 1).
            - probs (Tensor): (B, K, D, H, W), the softmax volume.
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
        """Expected location under the weights ``max(exp(scaled) - 1, 0)``; ``plain`` where all are 0.

        Args:
            scaled (Tensor): (B, K, D * H * W) logits times ``beta``.
            grids (list[Tensor]): Normalised grids along x, y (and z).
            plain (Tensor): (B, K, 2 | 3) the softmax expectation, the fallback.
        """
        depth, height, width = self.map_size
        peak = scaled.amax(dim=2, keepdim=True)
        # exp(scaled) - 1 = exp(peak) * (exp(scaled - peak) - exp(-peak)); the common factor cancels.
        weights = (torch.exp(scaled - peak) - torch.exp(-peak)).clamp(min=0.0)
        total = weights.sum(dim=2)  # (B, K)
        moments = grid_moments(weights.reshape(*scaled.shape[:2], depth, height, width), grids)
        has_peak = (total > 0).unsqueeze(-1)
        return torch.where(has_peak, moments / total.clamp(min=torch.finfo(total.dtype).tiny).unsqueeze(-1), plain)
