"""``make_res_layer``: a stage of residual blocks with the projection shortcut where shapes change.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016 (projection shortcuts, option B).
"""
from typing import Union

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmpose.utils.typing import OptConfigType

from .basic_block import BasicBlock
from .bottleneck import Bottleneck

__all__ = ['ResBlockType', 'make_res_layer']

ResBlockType = Union[type[BasicBlock], type[Bottleneck]]


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
