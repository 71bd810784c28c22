"""CPN's GlobalNet (Chen et al., CVPR 2018, Sec. 3.1), as the authors' tf-cpn ``create_global_net``.

Unlike tf-cpn, the 3x3 heatmap conv has no BN and starts from N(0, 0.001) (tf-cpn's BN suits its 0-255 targets,
not peak-1 ones), and resizing uses ``align_corners=False``.
"""
from typing import List, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import normal_init
from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

__all__ = ['GlobalNet']


class GlobalNet(nn.Module):
    """Feature pyramid (lateral 1x1 conv + 1x1 conv of the upsampled coarser level) with a heatmap predictor per level.

    Args:
        in_channels (Sequence[int]): Channels of each backbone level, finest first.
        channels (int): Pyramid width C.
        out_channels (int): Number of keypoints K.
        norm_cfg (dict, optional): mmcv norm config. Default: ``dict(type='BN')``.
    """

    def __init__(self, *, in_channels: Sequence[int], channels: int, out_channels: int,
                 norm_cfg: OptConfigType = None) -> None:
        super().__init__()
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        self.in_channels = tuple(in_channels)
        self.laterals = nn.ModuleList(
            ConvModule(c, channels, 1, norm_cfg=norm_cfg, act_cfg=dict(type='ReLU')) for c in self.in_channels)
        self.merges = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in self.in_channels[1:])
        self.predictors = nn.ModuleList(
            nn.Sequential(
                ConvModule(channels, channels, 1, norm_cfg=norm_cfg, act_cfg=dict(type='ReLU')),
                nn.Conv2d(channels, out_channels, 3, padding=1))
            for _ in self.in_channels)

    def init_weights(self) -> None:
        for predictor in self.predictors:
            normal_init(predictor[-1], std=0.001, bias=0)

    def forward(self, feats: Sequence[Tensor], out_size: Tuple[int, int]) -> Tuple[List[Tensor], List[Tensor]]:
        """L maps (B, C_i, h_i, w_i), finest first -> L pyramid maps (B, C, h_i, w_i) and L heatmaps (B, K, *out_size).
        """
        if len(feats) != len(self.in_channels):
            raise ValueError(f'GlobalNet expects {len(self.in_channels)} feature maps (in_channels='
                             f'{self.in_channels}), got {len(feats)}')
        pyramid = [self.laterals[-1](feats[-1])]
        for i in range(len(feats) - 2, -1, -1):  # top-down over the levels
            upsampled = F.interpolate(pyramid[0], size=feats[i].shape[-2:], mode='bilinear', align_corners=False)
            pyramid.insert(0, self.laterals[i](feats[i]) + self.merges[i](upsampled))
        heatmaps = [
            F.interpolate(predictor(p), size=out_size, mode='bilinear', align_corners=False)
            for predictor, p in zip(self.predictors, pyramid)
        ]
        return pyramid, heatmaps
