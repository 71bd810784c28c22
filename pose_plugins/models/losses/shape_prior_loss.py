"""The shape prior of mesh recovery: small betas, i.e. a body near the model's mean shape.

SMPL's shape space is PCA-whitened (Loper et al., SIGGRAPH Asia 2015), so ``||beta||^2`` is the negative log of
a Gaussian prior up to a constant; SPIN (Kolotouros et al., ICCV 2019, ``beta_loss_weight = 0.001``) applies it
to every regressed shape, with or without SMPL ground truth, which keeps images with 2D keypoints only from
explaining them by extreme shapes.
"""
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['ShapePriorLoss']


@MODELS.register_module()
class ShapePriorLoss(nn.Module):
    """``loss_weight * mean(betas ** 2)``.

    Args:
        loss_weight (float): Factor on the loss. Defaults to 0.001 (SPIN).
    """

    def __init__(self, *, loss_weight: float = 0.001) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, betas: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            betas (Tensor): (B, S) regressed shape coefficients.

        Returns:
            Tensor: Scalar loss.
        """
        if betas.ndim != 2:
            raise ValueError(f'ShapePriorLoss: betas must be (B, S), got {tuple(betas.shape)}')
        return betas.pow(2).mean() * self.loss_weight
