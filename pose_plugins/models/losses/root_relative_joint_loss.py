"""Root-relative 3D joint loss of mesh recovery (HMR / SPIN; mmpose 0.x ``MeshLoss.joints_3d_loss``)."""
from typing import Optional, Sequence

from torch import Tensor

from pose_plugins.registry import MODELS

from .masked_regression_loss import MaskedRegressionLoss

__all__ = ['RootRelativeJointLoss']


@MODELS.register_module()
class RootRelativeJointLoss(MaskedRegressionLoss):
    """:class:`MaskedRegressionLoss` on joints minus their root, the mean of ``root_indices``.

    Args:
        root_indices (Sequence[int]): Default: ``(11, 12)``, COCO's hips.
        criterion, smooth_l1_beta, loss_weight: as :class:`MaskedRegressionLoss`; criterion default ``'smooth_l1'``.
    """

    def __init__(self, *, root_indices: Sequence[int] = (11, 12), criterion: str = 'smooth_l1',
                 smooth_l1_beta: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__(criterion=criterion, smooth_l1_beta=smooth_l1_beta, loss_weight=loss_weight)
        if len(root_indices) == 0 or any(not isinstance(i, int) or i < 0 for i in root_indices):
            raise ValueError(f'RootRelativeJointLoss: root_indices must be non-negative ints, got {root_indices!r}')
        self.root_indices = tuple(root_indices)

    def forward(self, pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Joints ``pred``, ``target`` (B, K, 3), any origin; ``mask`` (B, ) or (B, K) -> scalar loss."""
        if pred.ndim != 3 or pred.shape[-1] != 3 or max(self.root_indices) >= pred.shape[1]:
            raise ValueError(f'RootRelativeJointLoss: pred must be (B, K, 3) with K > {max(self.root_indices)} '
                             f'(root_indices {self.root_indices}), got {tuple(pred.shape)}')
        roots = list(self.root_indices)
        return super().forward(pred - pred[:, roots].mean(1, keepdim=True),
                               target - target[:, roots].mean(1, keepdim=True), mask)
