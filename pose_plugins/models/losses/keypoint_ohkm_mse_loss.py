"""Heatmap MSE with online hard keypoint mining (OHKM).

Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation", CVPR 2018
(https://arxiv.org/abs/1711.07319), Sec. 3.3: RefineNet's loss keeps, for each instance, only the ``topk`` (M = 8
of the 17 COCO keypoints) keypoints with the largest loss, so training focuses on the hard ones.
"""
from typing import Optional

from torch import Tensor, nn

from pose_plugins.registry import MODELS
from .keypoint_mse_loss import check_heatmap_loss_inputs

__all__ = ['KeypointOHKMMSELoss']


@MODELS.register_module()
class KeypointOHKMMSELoss(nn.Module):
    """Per-instance mean of the ``topk`` largest per-keypoint heatmap MSEs, averaged over the batch.

    For instance b and keypoint k, ``l[b, k] = mean_{y,x}( (w[b,k] * output[b,k] - w[b,k] * target[b,k]) ** 2 )``
    (``w = 1`` unless ``use_target_weight``); then
    ``loss = loss_weight * mean_b( mean( topk_k(l[b, :]) ) )``. Computed with one :func:`torch.topk` over the
    keypoint dimension (no loop over the batch).

    Note:
        - B: batch size (instances)
        - K: number of keypoints (must be >= ``topk``)
        - H, W: heatmap height and width

    Differences from the references:
        - The original CPN / HRNet repos' ``JointsOHKMMSELoss`` multiplies each per-keypoint loss by 0.5. We
          follow mmpose's ``KeypointOHKMMSELoss`` (no 0.5) and give the same numbers; use ``loss_weight=0.5`` to
          reproduce the original ones.
        - As in both references the weight multiplies the heatmaps, so it enters the squared error as ``w**2``
          (identical for 0/1 weights). Besides mmpose's keypoint weights (B, K) we also accept pixel weights
          (B, K, H, W).

    Args:
        use_target_weight (bool): Weight the heatmaps by the target weights. Defaults to ``False``.
        topk (int): Number of hardest keypoints kept per instance. Defaults to 8.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
    """

    def __init__(self, *, use_target_weight: bool = False, topk: int = 8, loss_weight: float = 1.0) -> None:
        super().__init__()
        if int(topk) != topk or topk <= 0:
            raise ValueError(f'topk must be a positive integer, got topk={topk!r}')
        self.use_target_weight = use_target_weight
        self.topk = int(topk)
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, target: Tensor, target_weights: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            output (Tensor): Predicted heatmaps, (B, K, H, W).
            target (Tensor): Target heatmaps, (B, K, H, W).
            target_weights (Tensor, optional): Keypoint weights (B, K) or pixel weights (B, K, H, W). Required
                when ``use_target_weight=True``, ignored otherwise.

        Returns:
            Tensor: Scalar loss.
        """
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
