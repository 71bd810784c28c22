"""What every heatmap head does around its ``forward``: flip test + decoding, and the PCK training accuracy.

Written once here so that :class:`~pose_plugins.models.heads.heatmap_head.HeatmapHead` (one heatmap) and
:class:`~pose_plugins.models.heads.stacked_heatmap_head.StackedHeatmapHead` (the last of several stacks) predict
and report ``acc_pose`` identically. Flip test follows Xiao et al., "Simple Baselines for Human Pose Estimation
and Tracking", ECCV 2018 (average the heatmaps of the image and of its mirror image, the latter flipped back
with left/right keypoints swapped), using mmpose's ``flip_heatmaps``.

Note:
    - B: batch size (one instance per top-down crop)
    - K: number of keypoints
    - H, W: heatmap height and width
"""
from typing import Callable, Tuple

import torch
from mmengine.structures import PixelData
from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import Features, InstanceList, OptConfigType, OptSampleList, Predictions
from torch import Tensor

__all__ = ['default_head_init_cfg', 'predict_heatmaps', 'heatmap_accuracy', 'split_flip_feats']


def predict_heatmaps(forward: Callable[[Features], Tensor],
                     decode: Callable[[Tensor], InstanceList],
                     feats: Features,
                     batch_data_samples: OptSampleList,
                     test_cfg: OptConfigType = None) -> Predictions:
    """Heatmaps from ``forward`` (averaged with the flipped image's when flip testing), decoded by ``decode``.

    Args:
        forward (Callable): Maps the backbone features of a batch to heatmaps (B, K, H, W), e.g. a head's
            ``forward``.
        decode (Callable): Maps heatmaps (B, K, H, W) to B ``InstanceData``, e.g. ``BaseHead.decode``.
        feats (Tuple[Tensor] | List[Tuple[Tensor]]): Features of the batch, or ``[feats, flipped_feats]`` when
            ``test_cfg['flip_test']`` (as :class:`mmpose.models.TopdownPoseEstimator` passes them).
        batch_data_samples (List[PoseDataSample]): The batch's data samples; with flip test,
            ``batch_data_samples[0].metainfo['flip_indices']`` gives each keypoint's mirror keypoint.
        test_cfg (dict, optional): ``flip_test`` (bool, default False), ``flip_mode`` (default ``'heatmap'``),
            ``shift_heatmap`` (bool, default False), ``output_heatmaps`` (bool, default False).

    Returns:
        List[InstanceData] | Tuple[List[InstanceData], List[PixelData]]: Per sample, what ``decode`` gives
        (``keypoints`` (N, K, 2) and ``keypoint_scores`` (N, K), N = 1 instance per top-down sample); plus, if
        ``output_heatmaps``, a ``PixelData`` per sample with ``heatmaps`` (K, H, W).
    """
    if test_cfg is None:
        test_cfg = {}
    if test_cfg.get('flip_test', False):
        feats_orig, feats_flipped = split_flip_feats(feats)
        heatmaps_flipped = flip_heatmaps(
            forward(feats_flipped),
            flip_indices=batch_data_samples[0].metainfo['flip_indices'],
            flip_mode=test_cfg.get('flip_mode', 'heatmap'),
            shift_heatmap=test_cfg.get('shift_heatmap', False))
        batch_heatmaps = (forward(feats_orig) + heatmaps_flipped) * 0.5
    else:
        batch_heatmaps = forward(feats)

    preds = decode(batch_heatmaps)
    if test_cfg.get('output_heatmaps', False):
        return preds, [PixelData(heatmaps=heatmaps) for heatmaps in batch_heatmaps.detach()]
    return preds


def default_head_init_cfg() -> list:
    """mmpose's (and the original SimpleBaseline / HRNet code's) head init, a new list on every call:
    Normal(std=0.001) for (transposed) convolutions, constant 1 for BatchNorm weights."""
    return [
        dict(type='Normal', layer=['Conv2d', 'ConvTranspose2d'], std=0.001),
        dict(type='Constant', layer='BatchNorm2d', val=1),
    ]


def split_flip_feats(feats: Features) -> Tuple[Features, Features]:
    """``(feats, flipped_feats)`` from what :class:`mmpose.models.TopdownPoseEstimator` passes a head in flip test.

    Args:
        feats (List[Tuple[Tensor]]): ``[feats, flipped_feats]``, the features of the batch and of its mirror.

    Returns:
        tuple: the two feature tuples; ``ValueError`` for anything else.
    """
    if not (isinstance(feats, list) and len(feats) == 2):
        raise ValueError('flip_test expects feats = [feats, flipped_feats], got '
                         f'{type(feats).__name__} of length {len(feats)}')
    return feats[0], feats[1]


def heatmap_accuracy(pred_heatmaps: Tensor, gt_heatmaps: Tensor, keypoint_weights: Tensor,
                     threshold: float = 0.05) -> Tensor:
    """PCK of the heatmap maxima (mmpose's ``pose_pck_accuracy``), the ``acc_pose`` every heatmap head logs.

    Args:
        pred_heatmaps (Tensor): (B, K, H, W).
        gt_heatmaps (Tensor): (B, K, H, W).
        keypoint_weights (Tensor): (B, K); keypoints with weight 0 are left out.
        threshold (float): PCK threshold as a fraction of the heatmap size. Default: 0.05.

    Returns:
        Tensor: Scalar average accuracy, on ``gt_heatmaps``' device (not differentiable).
    """
    _, avg_acc, _ = pose_pck_accuracy(
        output=to_numpy(pred_heatmaps), target=to_numpy(gt_heatmaps), mask=to_numpy(keypoint_weights) > 0,
        thr=threshold)
    return torch.tensor(avg_acc, device=gt_heatmaps.device)
