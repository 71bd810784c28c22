"""The ResNet bottleneck residual block (1x1 -> 3x3 -> 1x1 convs, expansion 4).

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Fig. 5 (ResNet-50/101/152). HRNet
(Sun et al., CVPR 2019) builds its stage 1 from four of these blocks of width 64.

The stride sits on the 3x3 conv (torchvision's "ResNet v1.5", mmpose's ``style='pytorch'``), not on the first
1x1 conv as in the original Caffe ResNet. Parameter names follow torchvision / mmpose (``conv1``, ``bn1``,
``conv2``, ``bn2``, ``conv3``, ``bn3``, ``downsample.0``, ``downsample.1``); norm layers are named by mmcv's
``build_norm_layer`` (``bn3`` for BN/SyncBN, ``gn3`` for GN ...), exactly as in mmpose.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import constant_init
from mmpose.utils.typing import OptConfigType
from torch import Tensor

from .basic_block import check_residual_args

__all__ = ['Bottleneck']


class Bottleneck(nn.Module):
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

    def __init__(self,
                 *,
                 inplanes: int,
                 planes: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 norm_cfg: OptConfigType = None,
                 conv_cfg: OptConfigType = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        check_residual_args(type(self).__name__, inplanes, planes, stride, downsample, self.expansion)
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        out_channels = planes * self.expansion
        self.inplanes = inplanes
        self.planes = planes
        self.out_channels = out_channels
        self.stride = stride
        self.with_cp = with_cp

        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, kernel_size=1, bias=False)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(
            conv_cfg, planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2)
        self.add_module(self.norm2_name, norm2)
        self.conv3 = build_conv_layer(conv_cfg, planes, out_channels, kernel_size=1, bias=False)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, out_channels, postfix=3)
        self.add_module(self.norm3_name, norm3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def norm1(self) -> nn.Module:
        """The norm layer after ``conv1`` (registered as ``bn1``, ``gn1`` ... by norm type)."""
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        """The norm layer after ``conv2``."""
        return getattr(self, self.norm2_name)

    @property
    def norm3(self) -> nn.Module:
        """The norm layer after ``conv3``, the last one of the residual path."""
        return getattr(self, self.norm3_name)

    def zero_init_last(self) -> None:
        """Zero the last norm layer's affine parameters so the block starts as ``relu(identity)``.

        Goyal et al., "Accurate, Large Minibatch SGD", 2017, Sec. 5.1 (``zero_init_residual``).
        """
        constant_init(self.norm3, 0)

    def _residual(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu(self.norm2(self.conv2(out)))
        out = self.norm3(self.conv3(out))
        return out + identity

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block.

        Args:
            x (Tensor): (N, C_in, H, W).

        Returns:
            Tensor: (N, C_out, ceil(H / stride), ceil(W / stride)).
        """
        if self.with_cp and torch.is_grad_enabled():
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)
