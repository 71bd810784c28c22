"""mmpose's training accuracy ``acc_pose`` (PCK of the argmax locations) in torch, on the tensors' device.

The same numbers as mmpose's numpy ``keypoint_pck_accuracy`` / ``pose_pck_accuracy`` (mmpose 1.3.2), without a
device -> host copy: a training step that logs ``acc_pose`` reads it only when the logger does.

Note:
    N: instances; K: keypoints; D: coordinate dims; H, W: heatmap size.
"""
from typing import Tuple

import torch
from torch import Tensor

__all__ = ['heatmap_maximum', 'keypoint_pck_accuracy', 'pose_pck_accuracy']


def heatmap_maximum(heatmaps: Tensor) -> Tuple[Tensor, Tensor]:
    """mmpose's ``get_heatmap_maximum``: (x, y) of each map's first maximum, (-1, -1) where the maximum is <= 0.

    Args:
        heatmaps (Tensor): (N, K, H, W).

    Returns:
        tuple: ``locs`` (N, K, 2) float32 and ``vals`` (N, K) (the heatmaps' dtype).
    """
    n, k, h, w = heatmaps.shape
    vals, index = heatmaps.reshape(n, k, h * w).max(dim=-1)  # first occurrence on ties, as numpy's argmax
    locs = torch.stack((index % w, torch.div(index, w, rounding_mode='floor')), dim=-1).float()
    return torch.where((vals <= 0)[..., None], torch.full_like(locs, -1.0), locs), vals


def keypoint_pck_accuracy(pred: Tensor, gt: Tensor, mask: Tensor, thr: float, norm_factor: Tensor) -> Tensor:
    """Mean over keypoints of the fraction of instances whose normalised distance is below ``thr``; keypoints with
    no valid instance are left out of the mean, 0 when none is valid (mmpose's ``avg_acc``).

    Args:
        pred, gt (Tensor): (N, K, D) locations.
        mask (Tensor): (N, K) bool, the instances counted.
        thr (float): Threshold of the normalised distance.
        norm_factor (Tensor): (N, D) per-instance normalisation; an instance with a 0 factor is not counted and
            a factor <= 0 counts as 1e6 (as mmpose). Its dtype is the distances' (float64 for mmpose's heatmap
            sizes, float32 for its coordinate ones); they are rounded to float32 before the comparison, as mmpose
            stores them.

    Returns:
        Tensor: () float64, on the inputs' device.
    """
    valid = mask & ~(norm_factor == 0).any(dim=1, keepdim=True)
    norm = torch.where(norm_factor <= 0, torch.full_like(norm_factor, 1e6), norm_factor)
    offsets = (pred.float() - gt.float()).to(norm.dtype) / norm[:, None, :]
    distances = torch.linalg.vector_norm(offsets, dim=-1).float()  # (N, K)
    counted = valid.sum(dim=0)  # (K,)
    hits = ((distances < thr) & valid).sum(dim=0)
    has_valid = counted > 0
    per_keypoint = hits.double() / counted.clamp(min=1).double()
    total = has_valid.sum()
    return (per_keypoint * has_valid).sum() / total.clamp(min=1)


def pose_pck_accuracy(output: Tensor, target: Tensor, mask: Tensor, thr: float = 0.05) -> Tensor:
    """PCK of the heatmap maxima of ``output`` against those of ``target``, distances over (H, W) as mmpose does
    (x over H, y over W: mmpose's own pairing, kept so the logged numbers match).

    Args:
        output, target (Tensor): (N, K, H, W).
        mask (Tensor): (N, K) bool.
        thr (float): Threshold of the normalised distance.

    Returns:
        Tensor: () float64, on the inputs' device.
    """
    n, _, h, w = output.shape
    pred, _ = heatmap_maximum(output)
    gt, _ = heatmap_maximum(target)
    sizes = [torch.full((n,), float(size), dtype=torch.float64, device=output.device) for size in (h, w)]
    norm = torch.stack(sizes, dim=1)  # filled on the device: no host -> device copy
    return keypoint_pck_accuracy(pred, gt, mask, thr, norm)
