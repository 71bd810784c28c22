"""Intermediate supervision of a stacked heatmap network: a loss on every stack, prediction from the last.

Newell, Yang, Deng, "Stacked Hourglass Networks for Human Pose Estimation", ECCV 2016, Sec. 3.3 and Fig. 4
(right): every hourglass predicts heatmaps, each prediction gets the same loss against the same ground truth,
and the losses of all stacks are summed (the authors' code: ``nn.ParallelCriterion`` with weight 1 per stack); the
final prediction is the last stack's. The heatmaps themselves come from
:class:`~pose_plugins.models.backbones.stacked_hourglass.StackedHourglass` (its inter-stack links need them), so
this head has no parameters.

Prediction (flip test, decoding) and ``acc_pose`` come from
:class:`~pose_plugins.models.heads.base_pose_head.BasePoseHead`, applied to the last stack.
"""
import copy
from collections.abc import Mapping
from typing import Dict, Sequence, Union

import torch
from mmpose.utils.typing import ConfigType, OptConfigType
from torch import Tensor, nn

from pose_plugins.models.heads.base_pose_head import BasePoseHead
from pose_plugins.registry import MODELS

__all__ = ['StackedHeatmapHead']


@MODELS.register_module()
class StackedHeatmapHead(BasePoseHead):
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
            ``None`` (the base's default).

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
        super().__init__(decoder=decoder, init_cfg=init_cfg)
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

    def prediction_outputs(self, outputs: Sequence[Tensor]) -> Dict[str, Tensor]:
        """The last stack's heatmaps (B, K, H, W) are decoded and scored."""
        return dict(heatmaps=outputs[-1])

    def loss_terms(self, outputs: Sequence[Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Sum of the per-stack losses against the same targets.

        Args:
            outputs (Sequence[Tensor]): S heatmap tensors (B, K, H, W), stack 1 first.
            targets (dict): ``heatmaps`` (B, K, H, W) and ``keypoint_weights`` (B, K).

        Returns:
            dict: ``loss_kpt`` (scalar, sum over stacks: what is optimised); ``kpt_stack1`` ... ``kpt_stackS``
            (each stack's term, detached, for logging only: their names avoid "loss" because mmengine sums
            every entry whose name contains it).
        """
        per_stack = [loss_module(heatmaps, targets['heatmaps'], targets['keypoint_weights'])
                     for loss_module, heatmaps in zip(self.loss_modules, outputs)]
        losses = dict(loss_kpt=torch.stack(per_stack).sum())
        losses.update({f'kpt_stack{s}': term.detach() for s, term in enumerate(per_stack, start=1)})
        return losses
