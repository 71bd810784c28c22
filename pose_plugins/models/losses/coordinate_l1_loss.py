"""L1 / smooth L1 loss on 2D or 3D keypoint coordinates, as integral regression (Sun et al., ECCV 2018; 3DMPPE)."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['CoordinateL1Loss']


@MODELS.register_module()
class CoordinateL1Loss(nn.Module):
    """``loss_weight * mean(f(m * pred - m * target))`` over (B, K, D), ``f`` L1 or smooth L1.

    ``m[b, k, :2] = v[b, k]``, ``m[b, k, 2] = v[b, k] * d[b, k]`` (visibility, has-depth); masked elements count
    in the mean, as 3DMPPE and mmpose's ``L1Loss``.

    Args:
        use_target_weight (bool): Apply keypoint weights (then required). Default: True.
        smooth_l1_beta (float, optional): Smooth L1 with this beta; ``None``: L1. Default: None.
        loss_weight (float): Default: 1.0.
    """

    def __init__(self,
                 *,
                 use_target_weight: bool = True,
                 smooth_l1_beta: Optional[float] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if smooth_l1_beta is not None and not smooth_l1_beta > 0:
            raise ValueError(f'CoordinateL1Loss: smooth_l1_beta must be > 0 or None (L1), got {smooth_l1_beta!r}')
        self.use_target_weight = use_target_weight
        self.smooth_l1_beta = smooth_l1_beta
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weights: Optional[Tensor] = None,
                depth_weights: Optional[Tensor] = None) -> Tensor:
        """Coordinates (B, K, D), D = 2 or 3; ``target_weights``, ``depth_weights`` (B, K) -> scalar loss."""
        if output.shape != target.shape or output.ndim != 3 or output.shape[-1] not in (2, 3):
            raise ValueError(f'CoordinateL1Loss: output and target must both be (B, K, 2) or (B, K, 3), got output '
                             f'{tuple(output.shape)} and target {tuple(target.shape)}')
        if self.use_target_weight and target_weights is None:
            raise ValueError('CoordinateL1Loss(use_target_weight=True) needs target_weights, got None')
        for name, value in (('target_weights', target_weights), ('depth_weights', depth_weights)):
            if value is not None and value.shape != output.shape[:2]:
                raise ValueError(f'CoordinateL1Loss: {name} must be (B, K) = {tuple(output.shape[:2])}, got '
                                 f'{tuple(value.shape)}')
        if depth_weights is not None and output.shape[-1] != 3:
            raise ValueError('CoordinateL1Loss: depth_weights are only meaningful for 3D coordinates (B, K, 3), got '
                             f'{tuple(output.shape)}')

        mask = None
        if self.use_target_weight:
            mask = target_weights.unsqueeze(-1).expand_as(output)
        if depth_weights is not None:
            base = mask if mask is not None else output.new_ones(output.shape)
            mask = base.clone()
            mask[..., 2] = mask[..., 2] * depth_weights
        if mask is not None:
            output, target = output * mask, target * mask
        if self.smooth_l1_beta is None:
            loss = F.l1_loss(output, target)
        else:
            loss = F.smooth_l1_loss(output, target, beta=self.smooth_l1_beta)
        return loss * self.loss_weight
