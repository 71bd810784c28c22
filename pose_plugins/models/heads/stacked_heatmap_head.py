"""Intermediate supervision of a stacked heatmap network: a loss on every stack, prediction from the last.

Newell, Yang, Deng, "Stacked Hourglass Networks for Human Pose Estimation", ECCV 2016, Sec. 3.3 and Fig. 4
(right): every hourglass predicts heatmaps, each prediction gets the same loss against the same ground truth,
and the losses of all stacks are summed (the authors' code: ``nn.ParallelCriterion`` with weight 1 per stack); the
final prediction is the last stack's. The heatmaps themselves come from
:class:`~pose_plugins.models.backbones.stacked_hourglass.StackedHourglass` (its inter-stack links need them), so
this head has no parameters.

Prediction (flip test, decoding) and ``acc_pose`` are those of
:class:`~pose_plugins.models.heads.heatmap_head.HeatmapHead`, through the shared functions of
:mod:`pose_plugins.models.heads.heatmap_predict`, applied to the last stack.
"""
import copy
from collections.abc import Mapping
from typing import Sequence, Union

import torch
from mmpose.models.heads.base_head import BaseHead
from mmpose.utils.typing import ConfigType, Features, OptConfigType, OptSampleList, Predictions
from torch import Tensor, nn

from pose_plugins.models.heads.heatmap_predict import heatmap_accuracy, predict_heatmaps
from pose_plugins.registry import KEYPOINT_CODECS, MODELS

__all__ = ['StackedHeatmapHead']


@MODELS.register_module()
class StackedHeatmapHead(BaseHead):
    """Sum of one heatmap loss per stack; ``acc_pose`` and predictions from the last stack.

    Note:
        - B: batch size (one instance per top-down crop)
        - S: number of stacks, ``num_stacks``
        - K: number of keypoints, ``out_channels``
        - H, W: heatmap size (the same for every stack)

    Args:
        num_stacks (int): Number of stacks S whose heatmaps the backbone returns.
        out_channels (int): Number of keypoints K (checked against the heatmaps).
        loss (dict | Sequence[dict], optional): One loss config used for every stack, or S configs (stack 1
            first), built by :data:`pose_plugins.registry.MODELS`; give per-stack ``loss_weight`` s in the
            list to weight stacks. ``None`` means ``dict(type='pose_plugins.KeypointMSELoss',
            use_target_weight=True)`` for every stack. Not modified.
        decoder (dict, optional): Codec config used by :meth:`predict`, built by
            :data:`pose_plugins.registry.KEYPOINT_CODECS`. ``None`` disables :meth:`predict`.
        init_cfg (dict | list[dict], optional): mmengine init config (the head has no parameters). Default:
            ``None``.

    Shapes:
        - forward input: tuple of S heatmap tensors (B, K, H, W), stack 1 first
        - forward output: the same S tensors, checked
    """

    def __init__(self,
                 *,
                 num_stacks: int,
                 out_channels: int,
                 loss: Union[ConfigType, Sequence[ConfigType], None] = None,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        for name, value in (('num_stacks', num_stacks), ('out_channels', out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'StackedHeatmapHead: {name} must be a positive int, got {value!r}')
        self.num_stacks = num_stacks
        self.out_channels = out_channels
        if loss is None:
            loss = dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True)
        if isinstance(loss, Mapping):
            loss_cfgs = [copy.deepcopy(loss) for _ in range(num_stacks)]
        elif isinstance(loss, Sequence) and not isinstance(loss, str) and len(loss) == num_stacks \
                and all(isinstance(cfg, Mapping) for cfg in loss):
            loss_cfgs = [copy.deepcopy(cfg) for cfg in loss]
        else:
            raise ValueError(f'StackedHeatmapHead: loss must be one loss config (dict) or a list of num_stacks = '
                             f'{num_stacks} of them, got {loss!r}')
        #: One loss module per stack, stack 1 first.
        self.loss_modules = nn.ModuleList(MODELS.build(cfg) for cfg in loss_cfgs)
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

    def forward(self, feats: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """Check and return the heatmaps of every stack.

        Args:
            feats (Sequence[Tensor]): S heatmap tensors (B, K, H, W), stack 1 first.

        Returns:
            tuple[Tensor]: The same S tensors (B, K, H, W).
        """
        if not isinstance(feats, (tuple, list)) or len(feats) != self.num_stacks:
            got = f'{type(feats).__name__} of length {len(feats)}' if isinstance(feats, (tuple, list)) \
                else type(feats).__name__
            raise ValueError(f'StackedHeatmapHead(num_stacks={self.num_stacks}) expects one heatmap tensor per '
                             f'stack, got {got}')
        expected = (self.out_channels, ) + tuple(feats[0].shape[2:])
        for s, heatmaps in enumerate(feats, start=1):
            if heatmaps.ndim != 4 or tuple(heatmaps.shape[1:]) != expected:
                raise ValueError(f'StackedHeatmapHead: stack {s} heatmaps must be (B, K={self.out_channels}, H, W) '
                                 f'like stack 1, got {tuple(heatmaps.shape)}')
        return tuple(feats)

    def _last_stack(self, feats: Sequence[Tensor]) -> Tensor:
        """Heatmaps (B, K, H, W) of the last stack."""
        return self.forward(feats)[-1]

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: OptConfigType = None) -> Predictions:
        """Decode keypoints from the last stack's heatmaps, with optional horizontal flip test.

        Exactly :meth:`pose_plugins.models.heads.heatmap_head.HeatmapHead.predict` applied to the last stack
        (see :func:`~pose_plugins.models.heads.heatmap_predict.predict_heatmaps`).

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): The S stacks' heatmaps (B, K, H, W), or
                ``[heatmaps, flipped_heatmaps]`` (two such tuples) when ``test_cfg['flip_test']``.
            batch_data_samples (List[PoseDataSample]): The batch's data samples (``flip_indices`` in the
                metainfo for flip test).
            test_cfg (dict, optional): ``flip_test``, ``flip_mode``, ``shift_heatmap``, ``output_heatmaps``.

        Returns:
            List[InstanceData] | Tuple[List[InstanceData], List[PixelData]]: Per sample, ``keypoints`` (1, K, 2)
            in the codec's input space and ``keypoint_scores`` (1, K); plus the (K, H, W) heatmaps if
            ``output_heatmaps``.
        """
        return predict_heatmaps(self._last_stack, self.decode, feats, batch_data_samples, test_cfg)

    def loss(self,
             feats: Sequence[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = None) -> dict:
        """Sum of the per-stack losses against the same targets, and PCK accuracy of the last stack.

        Args:
            feats (Sequence[Tensor]): S heatmap tensors (B, K, H, W), stack 1 first.
            batch_data_samples (List[PoseDataSample]): Each with ``gt_fields.heatmaps`` (K, H, W) and
                ``gt_instance_labels.keypoint_weights`` (1, K).
            train_cfg (dict, optional): ``compute_acc`` (bool, default True).

        Returns:
            dict: ``loss_kpt`` (scalar, sum over stacks: what is optimised); ``kpt_stack1`` ... ``kpt_stackS``
            (each stack's term, detached, for logging only: their names avoid "loss" because mmengine sums
            every entry whose name contains it); and, if ``compute_acc``, ``acc_pose`` (scalar, PCK@0.05 of the
            last stack's heatmap maxima).
        """
        if train_cfg is None:
            train_cfg = {}
        stacks = self.forward(feats)
        gt_heatmaps = torch.stack([d.gt_fields.heatmaps for d in batch_data_samples])  # (B, K, H, W)
        keypoint_weights = torch.cat([d.gt_instance_labels.keypoint_weights for d in batch_data_samples])  # (B, K)

        per_stack = [loss_module(heatmaps, gt_heatmaps, keypoint_weights)
                     for loss_module, heatmaps in zip(self.loss_modules, stacks)]
        losses = dict(loss_kpt=torch.stack(per_stack).sum())
        losses.update({f'kpt_stack{s}': term.detach() for s, term in enumerate(per_stack, start=1)})
        if train_cfg.get('compute_acc', True):
            losses['acc_pose'] = heatmap_accuracy(stacks[-1], gt_heatmaps, keypoint_weights)
        return losses
