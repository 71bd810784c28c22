"""``make_res_layer``: a stage of residual blocks with the projection shortcut where shapes change.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016 (projection shortcuts, option B); the
``avg_down`` projection is ResNet-D of He et al., "Bag of Tricks for Image Classification with Convolutional
Neural Networks", CVPR 2019, Sec. 4.1 (mmpose's ``ResLayer(avg_down=True)``).
"""
from typing import Optional, Union

import torch.nn as nn
from mmpose.utils.typing import OptConfigType

from .basic_block import BasicBlock
from .bottleneck import Bottleneck
from .conv_norm_act import ConvNormAct
from .validation import check_count

__all__ = ['ResBlockType', 'make_res_layer']

ResBlockType = Union[type[BasicBlock], type[Bottleneck]]


def make_res_layer(block: ResBlockType,
                   *,
                   inplanes: int,
                   planes: int,
                   num_blocks: int,
                   stride: int = 1,
                   dilation: int = 1,
                   style: str = 'pytorch',
                   avg_down: bool = False,
                   expansion: Optional[int] = None,
                   norm_cfg: OptConfigType = None,
                   conv_cfg: OptConfigType = None,
                   with_cp: bool = False) -> nn.Sequential:
    """Stack ``num_blocks`` residual blocks; the first one has ``stride`` and, where needed, a projection.

    The projection (``0.downsample``) is a 1x1 conv with ``stride`` followed by a norm layer
    (:class:`ConvNormAct` without ReLU: ``downsample.0`` / ``.1``), added when ``stride != 1`` or
    ``inplanes != planes * expansion`` (He et al. 2016, option B), as in torchvision, mmpose and the original
    HRNet code. With ``avg_down`` and ``stride != 1`` it is ``AvgPool2d(stride, ceil_mode=True,
    count_include_pad=False)`` then the 1x1 conv with stride 1 and the norm (``downsample.0`` / ``.1`` / ``.2``),
    as mmpose's ``ResLayer``. Used by HRNet's stage 1, every HRNet branch, the ResNet stages and CPN's RefineNet.

    Shapes:
        (N, inplanes, H, W) -> (N, planes * expansion, ceil(H / stride), ceil(W / stride))

    Args:
        block (type): :class:`BasicBlock` or :class:`Bottleneck` (any
            :class:`~pose_plugins.models.layers.residual_block.ResidualBlock` subclass).
        inplanes (int): Input channels.
        planes (int): Block width; output channels are ``planes * expansion``.
        num_blocks (int): Number of blocks (>= 1).
        stride (int): Stride of the first block. Default: 1.
        dilation (int): Dilation of every block. Default: 1.
        style (str): ``'pytorch'`` or ``'caffe'``, where a bottleneck's stride sits. Default: ``'pytorch'``.
        avg_down (bool): Downsample the projection with an average pool instead of a strided conv. Default: False.
        expansion (int, optional): The blocks' expansion; ``None``: ``block.expansion``. Default: None.
        norm_cfg (dict, optional): Norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): Conv config of every conv layer. Default: ``None``.
        with_cp (bool): Activation checkpointing in every block. Default: False.

    Returns:
        nn.Sequential: Blocks named ``0``, ``1``, ...
    """
    check_count('make_res_layer', num_blocks=num_blocks)
    norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
    out_channels = planes * (block.expansion if expansion is None else expansion)
    downsample = None
    if stride != 1 or inplanes != out_channels:
        pool = avg_down and stride != 1
        projection = ConvNormAct(inplanes, out_channels, kernel_size=1, stride=1 if pool else stride,
                                 conv_cfg=conv_cfg, norm_cfg=norm_cfg, relu=False)
        downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True, count_include_pad=False),
            *projection) if pool else projection
    common = dict(planes=planes, dilation=dilation, style=style, expansion=expansion, norm_cfg=norm_cfg,
                  conv_cfg=conv_cfg, with_cp=with_cp)
    layers = [block(inplanes=inplanes, stride=stride, downsample=downsample, **common)]
    layers += [block(inplanes=out_channels, **common) for _ in range(1, num_blocks)]
    return nn.Sequential(*layers)
