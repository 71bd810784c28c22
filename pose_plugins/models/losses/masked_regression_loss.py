"""A regression loss with a per-element mask: the 2D reprojection, SMPL-parameter and vertex terms of mesh recovery.

The terms of HMR / SPIN training (Kanazawa et al., CVPR 2018; Kolotouros et al., ICCV 2019; mmpose 0.x's
``MeshLoss``) are all "criterion between prediction and target, weighted by a mask, averaged":

- 2D keypoint reprojection: smooth L1 on normalised crop coordinates, masked by keypoint visibility (B, K);
- SMPL pose: MSE between rotation matrices (B, J, 3, 3), masked per sample by ``has_smpl`` (B, );
- SMPL betas: MSE (B, 10), masked by ``has_smpl``;
- vertices: L1 (B, V, 3) of root-relative vertices, masked by ``has_smpl``.

One class does all four, configured by ``criterion``; the mask is broadcast from the left (a (B, ) mask covers
every element of its sample, a (B, K) mask every coordinate of its keypoint).
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

    Masked elements count in the denominator, as in mmpose 0.x's ``MeshLoss`` (whose loss weights our configs
    take over): a batch whose samples lack SMPL ground truth gets a proportionally smaller SMPL term, and a batch
    with none gets exactly 0 (with a gradient of 0, so the graph stays connected).

    Note:
        B: batch size; the remaining dimensions ``...`` are the term's (K keypoints x 2, J joints x 3 x 3, ...).

    Args:
        criterion (str): ``'l1'``, ``'mse'`` or ``'smooth_l1'`` (beta ``smooth_l1_beta``). Defaults to ``'mse'``.
        smooth_l1_beta (float): Beta of the smooth L1 (torch's and mmpose 0.x's default 1.0). Defaults to 1.0.
        loss_weight (float): Factor on the loss. Defaults to 1.0.
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
        """Compute the loss.

        Args:
            pred (Tensor): (B, ...) predictions.
            target (Tensor): (B, ...) targets, the shape of ``pred``.
            mask (Tensor, optional): (B, ) or (B, ...) weights, a prefix of ``pred``'s shape (0/1 masks or
                visibilities). ``None`` weights everything 1.

        Returns:
            Tensor: Scalar loss.
        """
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
