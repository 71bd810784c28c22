"""``make_res_layer``: a stage of residual blocks, as mmpose's ``ResLayer`` (``avg_down``: ResNet-D)."""
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
    """``num_blocks`` blocks; the first has ``stride`` and, where the shape changes, a 1x1 conv + norm projection
    (with ``avg_down``, after an average pool). Arguments as :class:`ResidualBlock`.
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
