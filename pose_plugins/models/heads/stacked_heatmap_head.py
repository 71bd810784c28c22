"""Intermediate supervision of a stacked heatmap network (Newell et al., ECCV 2016, Sec. 3.3)."""
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
    """The same heatmap loss on every stack of :class:`StackedHourglass`, summed; predictions from the last stack.
    Has no parameters.

    Args:
        num_stacks (int): Number of stacks S.
        out_channels (int): Number of keypoints K.
        loss (dict | Sequence[dict], optional): One config for all stacks, or S. Default: ``KeypointMSELoss``.
        decoder (dict, optional): Codec config for :meth:`predict`.
        init_cfg (dict | list[dict], optional): mmengine init config.
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
        """Check and return the S heatmaps (B, K, H, W), first stack first."""
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
        return dict(heatmaps=outputs[-1])

    def loss_terms(self, outputs: Sequence[Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``loss_kpt``, summed over stacks, and ``kpt_stack{s}`` per stack, detached, for logging."""
        per_stack = [loss_module(heatmaps, targets['heatmaps'], targets['keypoint_weights'])
                     for loss_module, heatmaps in zip(self.loss_modules, outputs)]
        losses = dict(loss_kpt=torch.stack(per_stack).sum())
        losses.update({f'kpt_stack{s}': term.detach() for s, term in enumerate(per_stack, start=1)})
        return losses
