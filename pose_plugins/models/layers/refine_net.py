"""CPN's RefineNet (Chen et al., CVPR 2018, Sec. 3.2), as tf-cpn's ``create_refine_net`` but without BN on the
heatmap conv (as :class:`GlobalNet`).
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import normal_init
from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

from .refine_bottleneck import RefineBottleneck
from .res_layer import make_res_layer

__all__ = ['RefineNet']


class RefineNet(nn.Module):
    """Level i passes i :class:`RefineBottleneck` s; all levels are upsampled, concatenated, and a bottleneck and a
    3x3 conv give K heatmaps.

    Args:
        num_levels (int): Number of pyramid levels L.
        channels (int): Pyramid width C (even).
        out_channels (int): Number of keypoints K.
        norm_cfg (dict, optional): mmcv norm config. Default: ``dict(type='BN')``.
    """

    def __init__(self, *, num_levels: int, channels: int, out_channels: int, norm_cfg: OptConfigType = None) -> None:
        super().__init__()
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 2 or channels % 2:
            raise ValueError(f'RefineNet channels must be an even int >= 2 (bottlenecks are channels / 2 wide), '
                             f'got {channels!r}')
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        planes = channels // RefineBottleneck.expansion
        self.num_levels = num_levels
        self.levels = nn.ModuleList([nn.Identity()] + [
            make_res_layer(RefineBottleneck, inplanes=channels, planes=planes, num_blocks=i, norm_cfg=norm_cfg)
            for i in range(1, num_levels)
        ])
        self.final_bottleneck = make_res_layer(
            RefineBottleneck, inplanes=num_levels * channels, planes=planes, num_blocks=1, norm_cfg=norm_cfg)
        self.final_layer = nn.Conv2d(channels, out_channels, 3, padding=1)

    def init_weights(self) -> None:
        normal_init(self.final_layer, std=0.001, bias=0)

    def forward(self, pyramid: Sequence[Tensor], out_size: Tuple[int, int]) -> Tensor:
        """L maps (B, C, h_i, w_i), finest first -> heatmaps (B, K, *out_size)."""
        if len(pyramid) != self.num_levels:
            raise ValueError(f'RefineNet expects {self.num_levels} pyramid levels, got {len(pyramid)}')
        upsampled = [
            F.interpolate(level(p), size=out_size, mode='bilinear', align_corners=False)
            for level, p in zip(self.levels, pyramid)
        ]
        return self.final_layer(self.final_bottleneck(torch.cat(upsampled, dim=1)))
