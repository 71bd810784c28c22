"""Jensen-Shannon divergence between predicted and target heatmap distributions (DSNT's regulariser).

Nibali et al., "Numerical Coordinate Regression with Convolutional Neural Networks", 2018
(https://arxiv.org/abs/1801.07372): alongside the coordinate loss of a soft-argmax head, pull each keypoint's
softmax map toward a normalised Gaussian centred on the keypoint. mmpose's IPR-Debias and DSNT configs use it
(mmpose's ``JSDiscretLoss``).
"""
import torch
from torch import Tensor, nn

from pose_plugins.registry import MODELS

__all__ = ['KeypointJSDivergenceLoss']


@MODELS.register_module()
class KeypointJSDivergenceLoss(nn.Module):
    """Per-keypoint JS divergence of two heatmap distributions, weighted, summed and divided by the batch size.

    For each instance b and keypoint k, with ``p`` the predicted map, ``q`` the target and ``m = (p + q) / 2``::

        js[b, k] = 1/2 sum_pixels( p log((p + e) / (m + e)) + q log((q + e) / (m + e)) ),  e = 1e-24
        loss = loss_weight * sum_{b,k}( w[b, k] * js[b, k] ) / B

    For 0/1 weights these are the numbers of mmpose's ``JSDiscretLoss`` (a test compares them). mmpose applies the
    weight by multiplying both maps by it, so a keypoint of weight 0 gives ``p = 0`` inside its ``KLDivLoss``,
    whose gradient there is ``log 0``: one invisible keypoint turns every gradient into NaN on torch 2.x. Here the
    weight multiplies each keypoint's divergence instead, and ``e`` sits inside the logarithms (as in the DSNT
    authors' ``dsntnn``), so the gradient stays finite for zero weights, empty targets and underflowed softmax
    values.

    Note:
        - B: batch size (instances)
        - K: number of keypoints
        - H, W: heatmap height and width

    Args:
        use_target_weight (bool): Weight each keypoint's divergence. With ``True`` weights are required.
            Defaults to True.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
    """

    eps = 1e-24

    def __init__(self, *, use_target_weight: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.use_target_weight = use_target_weight
        self.loss_weight = loss_weight

    def forward(self, output: Tensor, target: Tensor, target_weights: Tensor = None) -> Tensor:
        """Compute the loss.

        Args:
            output (Tensor): Predicted heatmaps, (B, K, H, W), each a distribution (e.g. a softmax).
            target (Tensor): Target heatmaps, (B, K, H, W), each summing to 1 (or all 0 for an unlabelled one).
            target_weights (Tensor, optional): Keypoint weights, (B, K). Required when ``use_target_weight``.

        Returns:
            Tensor: Scalar loss.
        """
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
