"""``NamedNormMixin``: norms registered under mmcv's names (``bn1``, ``gn2`` ...), as mmpose and torchvision."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmpose.utils.typing import OptConfigType

from .conv_norm_act import ConvNormAct

__all__ = ['NamedNormMixin']


class NamedNormMixin:

    def _add_norm(self, index: int, channels: int, norm_cfg: OptConfigType) -> None:
        """Register a norm (default BN) as mmcv names it; store the name in ``norm{index}_name``."""
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        name, norm = build_norm_layer(norm_cfg, channels, postfix=index)
        setattr(self, f'norm{index}_name', name)
        self.add_module(name, norm)

    def _add_conv_norm(self,
                       index: int,
                       in_channels: int,
                       out_channels: int,
                       *,
                       kernel_size: int,
                       stride: int = 1,
                       dilation: int = 1,
                       padding: Optional[int] = None,
                       conv_cfg: OptConfigType,
                       norm_cfg: OptConfigType) -> None:
        """Register a bias-free ``conv{index}``, then its norm (mmpose's order)."""
        self.add_module(
            f'conv{index}',
            ConvNormAct.build_conv(conv_cfg, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                                   padding=padding, dilation=dilation))
        self._add_norm(index, out_channels, norm_cfg)

    def get_norm(self, index: int) -> nn.Module:
        return getattr(self, getattr(self, f'norm{index}_name'))

    @staticmethod
    def norm_property(index: int) -> property:

        def getter(self: 'NamedNormMixin') -> nn.Module:
            return self.get_norm(index)

        return property(getter, doc=f'The norm layer ``norm{index}`` (``bn{index}`` for BN, ``gn{index}`` for GN).')
