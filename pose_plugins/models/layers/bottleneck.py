"""The ResNet bottleneck residual block (1x1 -> 3x3 -> 1x1 convs, expansion 4).

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Fig. 5 (ResNet-50/101/152). HRNet
(Sun et al., CVPR 2019) builds its stage 1 from four of these blocks of width 64.

The stride sits on the 3x3 conv (torchvision's "ResNet v1.5", mmpose's ``style='pytorch'``), not on the first
1x1 conv as in the original Caffe ResNet. Parameter names follow torchvision / mmpose (``conv1``, ``bn1``,
``conv2``, ``bn2``, ``conv3``, ``bn3``, ``downsample.0``, ``downsample.1``); norm layers are named by mmcv's
``build_norm_layer`` (``bn3`` for BN/SyncBN, ``gn3`` for GN ...), exactly as in mmpose.
"""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_conv_layer
from mmpose.utils.typing import OptConfigType
from torch import Tensor

from .residual_block import ResidualBlock

__all__ = ['Bottleneck']


class Bottleneck(ResidualBlock):
    """Bottleneck block: ``relu(norm3(conv3(relu(norm2(conv2(relu(norm1(conv1(x)))))))) + downsample(x))``.

    Note:
        N images, C_in = ``inplanes``, C_mid = ``planes`` (width of the 3x3 conv),
        C_out = ``planes * expansion`` = ``4 * planes``, s = ``stride``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))

    Args:
        inplanes (int): Input channels C_in.
        planes (int): Width C_mid of the 1x1 and 3x3 convs; the output has ``planes * expansion`` channels.
        stride (int): Stride of the 3x3 conv (``conv2``). Default: 1.
        downsample (nn.Module, optional): Maps the input to the output's shape on the identity path (usually
            1x1 conv + norm). Required when ``stride != 1`` or ``inplanes != planes * expansion``.
        norm_cfg (dict, optional): mmcv norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): mmcv conv config of every conv layer. Default: ``None`` (``nn.Conv2d``).
        with_cp (bool): Recompute the block in backward (activation checkpointing) to save memory.
            Default: False.
    """

    expansion: int = 4
    num_norms: int = 3

    def __init__(self,
                 *,
                 inplanes: int,
                 planes: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 norm_cfg: OptConfigType = None,
                 conv_cfg: OptConfigType = None,
                 with_cp: bool = False) -> None:
        super().__init__(inplanes=inplanes, planes=planes, stride=stride, downsample=downsample,
                         norm_cfg=norm_cfg, with_cp=with_cp)
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, kernel_size=1, bias=False)
        self._add_norm(1, planes)
        self.conv2 = build_conv_layer(
            conv_cfg, planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self._add_norm(2, planes)
        self.conv3 = build_conv_layer(conv_cfg, planes, self.out_channels, kernel_size=1, bias=False)
        self._add_norm(3, self.out_channels)
        self.downsample = downsample

    @property
    def norm3(self) -> nn.Module:
        """The norm layer after ``conv3``, the last one of the residual path."""
        return self.get_norm(3)

    def _residual(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu(self.norm2(self.conv2(out)))
        return self.norm3(self.conv3(out)) + self._identity(x)
