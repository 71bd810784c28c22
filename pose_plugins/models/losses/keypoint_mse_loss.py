"""Heatmap MSE loss (Tompson et al., NeurIPS 2014), as in SimpleBaseline, HRNet, Hourglass and CPN."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['KeypointMSELoss', 'check_heatmap_loss_inputs']


def check_heatmap_loss_inputs(output: Tensor, target: Tensor, target_weights: Optional[Tensor] = None) -> None:
    """``ValueError`` unless the heatmaps are (B, K, H, W) alike and weights (B, K) or (B, K, H, W)."""
    if output.shape != target.shape:
        raise ValueError(f'output and target heatmaps must have the same shape, got output {tuple(output.shape)} '
                         f'and target {tuple(target.shape)}')
    if output.ndim != 4:
        raise ValueError(f'heatmaps must be (B, K, H, W), got output of shape {tuple(output.shape)}')
    if target_weights is not None and (target_weights.ndim not in (2, 4)
                                       or target_weights.shape != target.shape[:target_weights.ndim]):
        raise ValueError('target_weights must be (B, K) or (B, K, H, W) matching the target, got target_weights '
                         f'{tuple(target_weights.shape)} and target {tuple(target.shape)}')


@MODELS.register_module()
class KeypointMSELoss(nn.Module):
    """``loss_weight * mean(m * (output - target) ** 2)``; masked elements count in the mean.

    ``m`` multiplies the target weights (with ``use_target_weight``), ``mask`` and, with ``skip_empty_channel``, 0
    for all-zero targets. Equals mmpose's ``KeypointMSELoss``, except that ``use_target_weight`` is honoured.

    Args:
        use_target_weight (bool): Weight the squared errors (weights then required). Default: False.
        skip_empty_channel (bool): Mask channels whose target is all zero. Default: False.
        loss_weight (float): Default: 1.0.
    """

    def __init__(self,
                 *,
                 use_target_weight: bool = False,
                 skip_empty_channel: bool = False,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight
        self.skip_empty_channel = skip_empty_channel
        self.loss_weight = loss_weight

    def forward(self,
                output: Tensor,
                target: Tensor,
                target_weights: Optional[Tensor] = None,
                mask: Optional[Tensor] = None) -> Tensor:
        """Heatmaps (B, K, H, W); ``target_weights`` (B, K) or (B, K, H, W); ``mask`` broadcastable to the
        heatmaps -> scalar loss.
        """
        check_heatmap_loss_inputs(output, target, target_weights)
        if self.use_target_weight and target_weights is None:
            raise ValueError('KeypointMSELoss(use_target_weight=True) needs target_weights, got None')

        weight = self._combined_mask(target, target_weights if self.use_target_weight else None, mask)
        if weight is None:
            loss = F.mse_loss(output, target)
        else:
            loss = (F.mse_loss(output, target, reduction='none') * weight).mean()
        return loss * self.loss_weight

    def _combined_mask(self, target: Tensor, target_weights: Optional[Tensor],
                       mask: Optional[Tensor]) -> Optional[Tensor]:
        factors = []
        if mask is not None:
            if mask.ndim != target.ndim or any(m != t and m != 1 for m, t in zip(mask.shape, target.shape)):
                raise ValueError('mask must be broadcastable to the target as (B|1, K|1, H|1, W|1), got mask '
                                 f'{tuple(mask.shape)} and target {tuple(target.shape)}')
            factors.append(mask)
        if target_weights is not None:
            # (B, K) -> (B, K, 1, 1); (B, K, H, W) stays.
            factors.append(target_weights.reshape(target_weights.shape + (1, ) * (target.ndim - target_weights.ndim)))
        if self.skip_empty_channel:
            factors.append((target != 0).flatten(2).any(dim=2)[..., None, None])

        if not factors:
            return None
        combined = factors[0]
        for factor in factors[1:]:
            combined = combined * factor
        return combined
