"""Shape prior of mesh recovery: ``||beta||^2``, a Gaussian prior on SMPL's whitened shapes (as SPIN, ICCV 2019);
:class:`~pose_plugins.models.losses.MeshLoss` gives it the offset from the body model's neutral shape."""
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['ShapePriorLoss']


@MODELS.register_module()
class ShapePriorLoss(nn.Module):
    """``loss_weight * mean(betas ** 2)``; ``loss_weight`` defaults to SPIN's 0.001."""

    def __init__(self, *, loss_weight: float = 0.001) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, betas: Tensor) -> Tensor:
        """Betas (B, S) -> scalar loss."""
        if betas.ndim != 2:
            raise ValueError(f'ShapePriorLoss: betas must be (B, S), got {tuple(betas.shape)}')
        return betas.pow(2).mean() * self.loss_weight
