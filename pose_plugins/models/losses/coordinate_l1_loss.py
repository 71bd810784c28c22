"""L1 (or smooth L1) loss between predicted and target keypoint coordinates, 2D or 3D.

The coordinate loss of integral regression: Sun et al., "Integral Human Pose Regression", ECCV 2018
(https://arxiv.org/abs/1711.08229) and Moon et al.'s 3DMPPE PoseNet, ICCV 2019
(https://arxiv.org/abs/1907.11346), whose 3D loss counts the depth term only for samples that have depth.
"""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['CoordinateL1Loss']


@MODELS.register_module()
class CoordinateL1Loss(nn.Module):
    """Masked L1 (or smooth L1) between coordinates, averaged over every element of the (B, K, D) tensor.

    With per-keypoint weights ``v`` (visibility, (B, K)) and, in 3D, depth weights ``d`` (has-depth, (B, K)),
    the weight of each element is ``m[b, k, :2] = v[b, k]`` and ``m[b, k, 2] = v[b, k] * d[b, k]``, and::

        loss = loss_weight * mean_{b,k,j}( f(m * pred - m * target)[b, k, j] )

    with ``f = |.|`` or smooth L1. For L1 and 0/1 weights this is 3DMPPE's
    ``mean((|dx| v + |dy| v + |dz| v d) / 3)``. Masked elements count in the mean's denominator (B * K * D), as in
    3DMPPE and mmpose. With D = 2 and no depth weights the numbers equal mmpose's ``L1Loss`` / ``SmoothL1Loss``
    with ``use_target_weight=True`` (the weight multiplies prediction and target before the criterion, as there).

    Note:
        - B: batch size (instances)
        - K: number of keypoints
        - D: coordinate dimensions, 2 or 3 (x, y, z)

    Args:
        use_target_weight (bool): Apply the keypoint weights (visibility). With ``False`` passed weights are
            ignored; with ``True`` they are required. Defaults to True.
        smooth_l1_beta (float, optional): Use smooth L1 with this ``beta`` (``torch.nn.functional.smooth_l1_loss``;
            mmpose's ``SmoothL1Loss`` uses 1.0) instead of L1. ``None`` means L1. Defaults to None.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
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
        """Compute the loss.

        Args:
            output (Tensor): Predicted coordinates, (B, K, D).
            target (Tensor): Target coordinates, (B, K, D).
            target_weights (Tensor, optional): Keypoint weights, (B, K). Required when ``use_target_weight``.
            depth_weights (Tensor, optional): Has-depth weights of the z term, (B, K); only with D = 3. ``None``
                means every keypoint with a weight has depth.

        Returns:
            Tensor: Scalar loss.
        """
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
