"""Mean squared error between predicted and target keypoint heatmaps.

The heatmap regression loss of Tompson et al. (NeurIPS 2014), used by Simple Baselines (Xiao et al., ECCV 2018),
HRNet (Sun et al., CVPR 2019), Stacked Hourglass (Newell et al., ECCV 2016) and CPN's GlobalNet (Chen et al.,
CVPR 2018).
"""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['KeypointMSELoss', 'check_heatmap_loss_inputs']


def check_heatmap_loss_inputs(output: Tensor, target: Tensor, target_weights: Optional[Tensor] = None) -> None:
    """Raise ``ValueError`` unless ``output`` and ``target`` are equal-shaped (B, K, H, W) heatmaps and
    ``target_weights`` (if given) is (B, K) or (B, K, H, W).

    Shared by the heatmap losses (:class:`KeypointMSELoss`, ``KeypointOHKMMSELoss``).
    """
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
    """Masked mean squared error between heatmaps, averaged over every element of the (B, K, H, W) tensor.

    ``loss = loss_weight * mean_{b,k,y,x}( m[b,k,y,x] * (output - target)[b,k,y,x] ** 2 )`` where the mask
    ``m`` is the product of whichever of these apply (each broadcast to (B, K, H, W)):

    - the target weights, when ``use_target_weight=True`` (keypoint-wise (B, K) or pixel-wise (B, K, H, W));
    - the ``mask`` argument (valid pixels, (B, K, H, W) or (B, 1, H, W));
    - when ``skip_empty_channel=True``, 0 for every channel whose target heatmap is all zero, else 1.

    Masked elements still count in the mean's denominator (B * K * H * W), as in mmpose.

    Note:
        - B: batch size (instances)
        - K: number of keypoints
        - H, W: heatmap height and width

    Differences from the references:
        - The original HRNet / Simple Baselines repos' ``JointsMSELoss`` multiplies by 0.5 and weights the
          *heatmaps* (``MSE(w * pred, w * gt)``, i.e. ``w**2`` on the squared error). We follow mmpose's
          ``KeypointMSELoss``: no 0.5 factor, the weight multiplies the squared error. For the usual 0/1 weights
          the two differ exactly by the factor 0.5; use ``loss_weight=0.5`` to reproduce the original numbers.
        - mmpose stores ``use_target_weight`` but never reads it (it applies ``target_weights`` whenever they are
          passed). Here the flag decides: with ``use_target_weight=False`` passed weights are ignored; with
          ``True`` they are required. With ``use_target_weight=True`` the numbers equal mmpose's.

    Args:
        use_target_weight (bool): Multiply each keypoint's (or pixel's) squared error by its target weight.
            Defaults to ``False``.
        skip_empty_channel (bool): Mask out channels whose target heatmap has no non-zero value (no visible
            ground-truth keypoint). Defaults to ``False``.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
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
        """Compute the loss.

        Args:
            output (Tensor): Predicted heatmaps, (B, K, H, W).
            target (Tensor): Target heatmaps, (B, K, H, W).
            target_weights (Tensor, optional): Keypoint weights (B, K) or pixel weights (B, K, H, W). Required
                when ``use_target_weight=True``, ignored otherwise.
            mask (Tensor, optional): Valid-pixel mask, (B, K, H, W) or (B, 1, H, W) (any dim may be 1 and is
                broadcast). ``None`` means every pixel is valid.

        Returns:
            Tensor: Scalar loss.
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
        """Product of the applicable masks, broadcastable to ``target`` (B, K, H, W); ``None`` if none apply."""
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
