"""Heatmap MSE with online hard keypoint mining (Chen et al., CPN, CVPR 2018, Sec. 3.3)."""
from typing import Optional

from torch import Tensor, nn

from pose_plugins.registry import MODELS
from .keypoint_mse_loss import check_heatmap_loss_inputs

__all__ = ['KeypointOHKMMSELoss']


@MODELS.register_module()
class KeypointOHKMMSELoss(nn.Module):
    """Per instance, the mean of the ``topk`` largest per-keypoint heatmap MSEs; averaged over the batch.

    Equals mmpose's ``KeypointOHKMMSELoss``; the original CPN code has a factor 0.5. Weights multiply the heatmaps.

    Args:
        use_target_weight (bool): Weight the heatmaps (weights then required). Default: False.
        topk (int): Hardest keypoints kept (K >= topk). Default: 8.
        loss_weight (float): Default: 1.0.
    """

    def __init__(self, *, use_target_weight: bool = False, topk: int = 8, loss_weight: float = 1.0) -> None:
        super().__init__()
        if int(topk) != topk or topk <= 0:
            raise ValueError(f'topk must be a positive integer, got topk={topk!r}')
        self.use_target_weight = use_target_weight
        self.topk = int(topk)
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, target: Tensor, target_weights: Optional[Tensor] = None) -> Tensor:
        """Heatmaps (B, K, H, W); ``target_weights`` (B, K) or (B, K, H, W) -> scalar loss."""
        check_heatmap_loss_inputs(output, target, target_weights)
        num_keypoints = output.shape[1]
        if num_keypoints < self.topk:
            raise ValueError(f'KeypointOHKMMSELoss needs at least topk keypoints, got K={num_keypoints} '
                             f'keypoints and topk={self.topk}')

        diff = output - target
        if self.use_target_weight:
            if target_weights is None:
                raise ValueError('KeypointOHKMMSELoss(use_target_weight=True) needs target_weights, got None')
            # (B, K) -> (B, K, 1, 1); (B, K, H, W) stays.
            diff = diff * target_weights.reshape(target_weights.shape + (1, ) * (4 - target_weights.ndim))
        per_keypoint = diff.pow(2).mean(dim=(2, 3))  # (B, K)
        hardest = per_keypoint.topk(self.topk, dim=1, sorted=False).values  # (B, topk)
        return hardest.mean(dim=1).mean() * self.loss_weight
