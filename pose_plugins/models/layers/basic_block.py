"""The ResNet basic residual block (two 3x3 convs).

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Fig. 2 / Table 1 (ResNet-18/34). HRNet
(Sun et al., CVPR 2019) uses this block in every branch of stages 2-4.

Parameter names follow torchvision / mmpose (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``downsample.0`` (1x1 conv),
``downsample.1`` (norm)), so their checkpoints load with ``strict=True``. The norm layers are named by mmcv's
``build_norm_layer`` (``bn1`` for BN/SyncBN, ``gn1`` for GN ...), exactly as mmpose names them.
"""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_conv_layer
from mmpose.utils.typing import OptConfigType
from torch import Tensor

from .residual_block import ResidualBlock

__all__ = ['BasicBlock']


class BasicBlock(ResidualBlock):
    """Basic residual block: ``relu(norm2(conv2(relu(norm1(conv1(x))))) + downsample(x))``.

    Note:
        N images, C_in = ``inplanes``, C_out = ``planes * expansion`` = ``planes``, s = ``stride``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))

    Args:
        inplanes (int): Input channels C_in.
        planes (int): Width of the block; the output has ``planes * expansion`` channels.
        stride (int): Stride of the first 3x3 conv. Default: 1.
        downsample (nn.Module, optional): Maps the input to the output's shape on the identity path (usually
            1x1 conv + norm). Required when ``stride != 1`` or ``inplanes != planes * expansion``.
        norm_cfg (dict, optional): mmcv norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): mmcv conv config of every conv layer. Default: ``None`` (``nn.Conv2d``).
        with_cp (bool): Recompute the block in backward (activation checkpointing) to save memory.
            Default: False.
    """

    expansion: int = 1
    num_norms: int = 2

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
        self.conv1 = build_conv_layer(
            conv_cfg, inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self._add_norm(1, planes)
        self.conv2 = build_conv_layer(conv_cfg, planes, self.out_channels, kernel_size=3, padding=1, bias=False)
        self._add_norm(2, self.out_channels)
        self.downsample = downsample

    def _residual(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        return self.norm2(self.conv2(out)) + self._identity(x)
