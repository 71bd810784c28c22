"""The 3D joint loss of mesh recovery: joints relative to the root (the pelvis), so that it ignores the camera.

HMR / SPIN (Kanazawa et al., CVPR 2018; Kolotouros et al., ICCV 2019; mmpose 0.x ``MeshLoss.joints_3d_loss``):
subtract from predicted and ground-truth joints their own root (the mean of the two hips), then smooth L1,
masked by which joints (and samples) have 3D ground truth.
"""
from typing import Optional, Sequence

from torch import Tensor

from pose_plugins.registry import MODELS

from .masked_regression_loss import MaskedRegressionLoss

__all__ = ['RootRelativeJointLoss']


@MODELS.register_module()
class RootRelativeJointLoss(MaskedRegressionLoss):
    """:class:`MaskedRegressionLoss` on root-relative 3D joints.

    Note:
        B: batch size; K: joints.

    Args:
        root_indices (Sequence[int]): Joints whose mean is the root. Defaults to ``(11, 12)``, COCO's hips (mmpose
            0.x: ``(2, 3)``, the hips of its 24-joint order).
        criterion (str): As :class:`MaskedRegressionLoss`. Defaults to ``'smooth_l1'`` (mmpose 0.x).
        smooth_l1_beta (float): Defaults to 1.0.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, *, root_indices: Sequence[int] = (11, 12), criterion: str = 'smooth_l1',
                 smooth_l1_beta: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__(criterion=criterion, smooth_l1_beta=smooth_l1_beta, loss_weight=loss_weight)
        if len(root_indices) == 0 or any(not isinstance(i, int) or i < 0 for i in root_indices):
            raise ValueError(f'RootRelativeJointLoss: root_indices must be non-negative ints, got {root_indices!r}')
        self.root_indices = tuple(root_indices)

    def forward(self, pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): (B, K, 3) predicted joints (any origin).
            target (Tensor): (B, K, 3) ground-truth joints (any origin).
            mask (Tensor, optional): (B, ) or (B, K) weights (has 3D ground truth). ``None``: all 1.

        Returns:
            Tensor: Scalar loss.
        """
        if pred.ndim != 3 or pred.shape[-1] != 3 or max(self.root_indices) >= pred.shape[1]:
            raise ValueError(f'RootRelativeJointLoss: pred must be (B, K, 3) with K > {max(self.root_indices)} '
                             f'(root_indices {self.root_indices}), got {tuple(pred.shape)}')
        roots = list(self.root_indices)
        return super().forward(pred - pred[:, roots].mean(1, keepdim=True),
                               target - target[:, roots].mean(1, keepdim=True), mask)
