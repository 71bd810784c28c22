"""Jensen-Shannon divergence between heatmap distributions, DSNT's regulariser (Nibali et al., 2018)."""
import torch
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['KeypointJSDivergenceLoss']


@MODELS.register_module()
class KeypointJSDivergenceLoss(nn.Module):
    """``loss_weight * sum_{b,k} w[b, k] * JS(p[b, k], q[b, k]) / B``, with 1e-24 inside the logs.

    Equals mmpose's ``JSDiscretLoss`` for 0/1 weights, but weights each divergence rather than both maps, so a
    zero-weight keypoint gives a finite gradient (NaN in mmpose).

    Args:
        use_target_weight (bool): Weight each keypoint (weights then required). Default: True.
        loss_weight (float): Default: 1.0.
    """

    eps = 1e-24

    def __init__(self, *, use_target_weight: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, target: Tensor, target_weights: Tensor = None) -> Tensor:
        """Distributions ``output``, ``target`` (B, K, H, W); ``target_weights`` (B, K) -> scalar loss."""
        if output.shape != target.shape or output.ndim != 4:
            raise ValueError(f'KeypointJSDivergenceLoss: output and target must both be (B, K, H, W), got '
                             f'{tuple(output.shape)} and {tuple(target.shape)}')
        if self.use_target_weight:
            if target_weights is None or target_weights.shape != output.shape[:2]:
                raise ValueError(f'KeypointJSDivergenceLoss(use_target_weight=True) needs target_weights (B, K) = '
                                 f'{tuple(output.shape[:2])}, got '
                                 f'{None if target_weights is None else tuple(target_weights.shape)}')
        mixture = 0.5 * (output + target)
        log_mixture = torch.log(mixture + self.eps)
        divergence = 0.5 * (output * (torch.log(output + self.eps) - log_mixture) + target *
                            (torch.log(target + self.eps) - log_mixture)).flatten(2).sum(-1)  # (B, K)
        if self.use_target_weight:
            divergence = divergence * target_weights
        return divergence.sum() / output.shape[0] * self.loss_weight
