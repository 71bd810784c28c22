"""``PoseBackbone``: what ResNet, HRNet and the Stacked Hourglass share on top of mmpose's ``BaseBackbone``."""
import copy
from collections.abc import Mapping, Sequence
from typing import Self

import torch.nn as nn
from mmpose.models.backbones.base_backbone import BaseBackbone
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .named_norm import NamedNormMixin
from .residual_block import ResidualBlock
from .validation import is_count

__all__ = ['PoseBackbone', 'is_count']


class PoseBackbone(NamedNormMixin, BaseBackbone):
    """``BaseBackbone`` with a named conv stem, ``frozen_stages``, ``norm_eval`` and ``zero_init_residual``; unlike
    mmpose's, ``train()`` returns ``self``. Subclasses list stage ``s`` in :meth:`_stage_modules` (0: the stem).

    Args:
        conv_cfg, norm_cfg (dict, optional): mmcv configs. Default: ``nn.Conv2d``, ``dict(type='BN')``.
        with_cp (bool): Activation checkpointing in residual blocks. Default: False.
        norm_eval (bool): Keep BatchNorm layers in eval mode while training. Default: False.
        frozen_stages (int): Freeze the stem (>= 0) and stages 1..frozen_stages. Default: -1.
        zero_init_residual (bool): Zero each block's last norm unless a checkpoint is loaded. Default: False.
        init_cfg (dict or list[dict], optional): Default: Kaiming-normal convs, unit norms.
    """

    def __init__(self,
                 *,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 with_cp: bool = False,
                 norm_eval: bool = False,
                 frozen_stages: int = -1,
                 zero_init_residual: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer=['Conv2d'], mode='fan_out', nonlinearity='relu'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(init_cfg=init_cfg)
        self.conv_cfg = conv_cfg
        self.norm_cfg = dict(type='BN') if norm_cfg is None else copy.deepcopy(norm_cfg)
        self.with_cp = with_cp
        self.norm_eval = norm_eval
        self.frozen_stages = frozen_stages
        self.zero_init_residual = zero_init_residual
        self.num_stem_convs = 0

    def _check_frozen_stages(self, num_stages: int) -> None:
        frozen_stages = self.frozen_stages
        if isinstance(frozen_stages, bool) or not isinstance(frozen_stages, int) \
                or not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages must be an int in [-1, {num_stages}], got {frozen_stages!r}')

    def _add_stem(self,
                  in_channels: int,
                  channels: Sequence[int],
                  *,
                  kernel_size: int) -> None:
        """Register stride-2 ``conv{i}`` + norm per entry of ``channels``, then ``relu``."""
        for index, out_channels in enumerate(channels, start=1):
            self._add_conv_norm(index, in_channels, out_channels, kernel_size=kernel_size, stride=2,
                                conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)
            in_channels = out_channels
        self.num_stem_convs = len(channels)
        self.relu = nn.ReLU(inplace=True)

    def _forward_stem(self, x: Tensor) -> Tensor:
        for index in range(1, self.num_stem_convs + 1):
            x = self.relu(self.get_norm(index)(getattr(self, f'conv{index}')(x)))
        return x

    def _stage_modules(self, stage: int) -> list[nn.Module]:
        if stage == 0:
            return [module for index in range(1, self.num_stem_convs + 1)
                    for module in (getattr(self, f'conv{index}'), self.get_norm(index))]
        raise NotImplementedError(f'{type(self).__name__} does not support frozen_stages')

    def _freeze_stages(self) -> None:
        for stage in range(0, self.frozen_stages + 1):
            for module in self._stage_modules(stage):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def _pretrained_init_cfgs(self) -> list[Mapping]:
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        return [cfg for cfg in cfgs if isinstance(cfg, Mapping) and cfg.get('type') == 'Pretrained']

    def init_weights(self) -> None:
        super().init_weights()
        if self.zero_init_residual and not self._pretrained_init_cfgs():
            for module in self.modules():
                if isinstance(module, ResidualBlock):
                    module.zero_init_last()

    def train(self, mode: bool = True) -> Self:
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
