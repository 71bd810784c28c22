"""Masked regression loss: the reprojection, SMPL and vertex terms of mesh recovery (HMR / SPIN; mmpose 0.x
``MeshLoss``).
"""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['MaskedRegressionLoss']

_CRITERIA = ('l1', 'mse', 'smooth_l1')


@MODELS.register_module()
class MaskedRegressionLoss(nn.Module):
    """``loss_weight * mean(mask * criterion(pred, target))`` over every element.

    Masked elements count in the mean, as mmpose 0.x; an all-zero mask gives 0 with a 0 gradient.

    Args:
        criterion (str): ``'l1'``, ``'mse'`` or ``'smooth_l1'``. Default: ``'mse'``.
        smooth_l1_beta, loss_weight (float): Default: 1.0.
    """

    def __init__(self, *, criterion: str = 'mse', smooth_l1_beta: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if criterion not in _CRITERIA:
            raise ValueError(f'{type(self).__name__}: criterion must be one of {_CRITERIA}, got {criterion!r}')
        if not smooth_l1_beta > 0:
            raise ValueError(f'{type(self).__name__}: smooth_l1_beta must be > 0, got {smooth_l1_beta!r}')
        self.criterion = criterion
        self.smooth_l1_beta = smooth_l1_beta
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """``pred``, ``target`` (B, ...); ``mask`` of a prefix shape, e.g. (B, ) or (B, K) -> scalar loss."""
        if pred.shape != target.shape:
            raise ValueError(f'{type(self).__name__}: pred {tuple(pred.shape)} and target {tuple(target.shape)} '
                             'must have the same shape')
        if self.criterion == 'l1':
            error = F.l1_loss(pred, target, reduction='none')
        elif self.criterion == 'mse':
            error = F.mse_loss(pred, target, reduction='none')
        else:
            error = F.smooth_l1_loss(pred, target, reduction='none', beta=self.smooth_l1_beta)
        if mask is not None:
            if mask.shape != pred.shape[:mask.ndim]:
                raise ValueError(f'{type(self).__name__}: mask {tuple(mask.shape)} must be a prefix of the '
                                 f'prediction shape {tuple(pred.shape)} (B, ... )')
            error = error * mask.to(error.dtype).reshape(*mask.shape, *(1, ) * (pred.ndim - mask.ndim))
        return error.mean() * self.loss_weight
