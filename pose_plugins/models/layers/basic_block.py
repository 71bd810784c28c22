"""The ResNet basic residual block (two 3x3 convs), and ``make_res_layer`` that stacks residual blocks.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Fig. 2 / Table 1 (ResNet-18/34). HRNet
(Sun et al., CVPR 2019) uses this block in every branch of stages 2-4.

Parameter names follow torchvision / mmpose (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``downsample.0`` (1x1 conv),
``downsample.1`` (norm)), so their checkpoints load with ``strict=True``. The norm layers are named by mmcv's
``build_norm_layer`` (``bn1`` for BN/SyncBN, ``gn1`` for GN ...), exactly as mmpose names them.
"""
from typing import TYPE_CHECKING, Optional, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import constant_init
from mmpose.utils.typing import OptConfigType
from torch import Tensor

if TYPE_CHECKING:
    from .bottleneck import Bottleneck

__all__ = ['BasicBlock', 'ResBlockType', 'make_res_layer', 'check_residual_args']


def check_residual_args(name: str, inplanes: int, planes: int, stride: int, downsample: Optional[nn.Module],
                        expansion: int) -> None:
    """Raise ``ValueError`` for block arguments that cannot form a residual sum.

    Args:
        name (str): Block class name, for the message.
        inplanes, planes, stride: The block's arguments (positive ints).
        downsample (nn.Module, optional): The identity-path projection.
        expansion (int): The block's output/width ratio.
    """
    for arg, value in (('inplanes', inplanes), ('planes', planes), ('stride', stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name}: {arg} must be a positive int, got {value!r}')
    if downsample is None and (stride != 1 or inplanes != planes * expansion):
        raise ValueError(
            f'{name}(inplanes={inplanes}, planes={planes}, stride={stride}) changes the shape '
            f'(output has planes * expansion = {planes * expansion} channels), so it needs a `downsample` '
            'module on the identity path')


class BasicBlock(nn.Module):
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

        self.conv1 = build_conv_layer(
            conv_cfg, inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(conv_cfg, planes, out_channels, kernel_size=3, padding=1, bias=False)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, out_channels, postfix=2)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def norm1(self) -> nn.Module:
        """The norm layer after ``conv1`` (registered as ``bn1``, ``gn1`` ... by norm type)."""
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        """The norm layer after ``conv2``, the last one of the residual path."""
        return getattr(self, self.norm2_name)

    def zero_init_last(self) -> None:
        """Zero the last norm layer's affine parameters so the block starts as ``relu(identity)``.

        Goyal et al., "Accurate, Large Minibatch SGD", 2017, Sec. 5.1 (``zero_init_residual``).
        """
        constant_init(self.norm2, 0)

    def _residual(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
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


ResBlockType = Union[type[BasicBlock], type['Bottleneck']]


def make_res_layer(block: ResBlockType,
                   *,
                   inplanes: int,
                   planes: int,
                   num_blocks: int,
                   stride: int = 1,
                   norm_cfg: OptConfigType = None,
                   conv_cfg: OptConfigType = None,
                   with_cp: bool = False) -> nn.Sequential:
    """Stack ``num_blocks`` residual blocks; the first one has ``stride`` and, where needed, a projection.

    The projection (``0.downsample``) is a 1x1 conv with ``stride`` followed by a norm layer, added when
    ``stride != 1`` or ``inplanes != planes * block.expansion`` (He et al. 2016, option B), as in torchvision,
    mmpose and the original HRNet code. Used by HRNet's stage 1, every HRNet branch, and the ResNet stages.

    Shapes:
        (N, inplanes, H, W) -> (N, planes * block.expansion, ceil(H / stride), ceil(W / stride))

    Args:
        block (type): :class:`BasicBlock` or :class:`Bottleneck` (anything with their constructor and an
            ``expansion`` class attribute).
        inplanes (int): Input channels.
        planes (int): Block width; output channels are ``planes * block.expansion``.
        num_blocks (int): Number of blocks (>= 1).
        stride (int): Stride of the first block. Default: 1.
        norm_cfg (dict, optional): Norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): Conv config of every conv layer. Default: ``None``.
        with_cp (bool): Activation checkpointing in every block. Default: False.

    Returns:
        nn.Sequential: Blocks named ``0``, ``1``, ...
    """
    if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or num_blocks < 1:
        raise ValueError(f'num_blocks must be a positive int, got {num_blocks!r}')
    norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or inplanes != out_channels:
        downsample = nn.Sequential(
            build_conv_layer(conv_cfg, inplanes, out_channels, kernel_size=1, stride=stride, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])
    common = dict(planes=planes, norm_cfg=norm_cfg, conv_cfg=conv_cfg, with_cp=with_cp)
    layers = [block(inplanes=inplanes, stride=stride, downsample=downsample, **common)]
    layers += [block(inplanes=out_channels, **common) for _ in range(1, num_blocks)]
    return nn.Sequential(*layers)
