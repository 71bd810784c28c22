"""``ConvNormAct``: conv -> norm (-> ReLU) numbered ``0``, ``1`` (, ``2``), as mmpose's Sequential-index names."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmpose.utils.typing import OptConfigType

__all__ = ['ConvNormAct']


class ConvNormAct(nn.Sequential):
    """``ReLU(norm(conv(x)))``; the conv has no bias by default.

    Args:
        in_channels, out_channels, kernel_size (int): Of the conv.
        stride, dilation (int): Default: 1.
        padding (int, optional): Default: ``dilation * (kernel_size // 2)``.
        output_padding (int, optional): Transposed convs (``conv_cfg=dict(type='deconv')``) only.
        conv_cfg, norm_cfg (dict, optional): mmcv configs. Default: ``nn.Conv2d``, ``dict(type='BN')``.
        relu (bool): Append a ReLU. Default: True.
        bias (bool): Conv bias. Default: False.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 *,
                 kernel_size: int,
                 stride: int = 1,
                 padding: Optional[int] = None,
                 dilation: int = 1,
                 output_padding: Optional[int] = None,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 relu: bool = True,
                 bias: bool = False) -> None:
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        conv = self.build_conv(conv_cfg, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                               padding=padding, dilation=dilation, output_padding=output_padding, bias=bias)
        layers = [conv, build_norm_layer(norm_cfg, out_channels)[1]]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)

    @staticmethod
    def build_conv(conv_cfg: OptConfigType, in_channels: int, out_channels: int, *, kernel_size: int, stride: int = 1,
                   padding: Optional[int] = None, dilation: int = 1, output_padding: Optional[int] = None,
                   bias: bool = False) -> nn.Module:
        if padding is None:
            padding = dilation * (kernel_size // 2)
        extra = {} if output_padding is None else dict(output_padding=output_padding)
        return build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                                padding=padding, dilation=dilation, bias=bias, **extra)
