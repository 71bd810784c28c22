"""CPN's RefineNet: more bottlenecks on coarser pyramid levels, upsampling, concatenation, a final prediction.

Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation", CVPR 2018
(https://arxiv.org/abs/1711.07319), Sec. 3.2 and Fig. 1, as in the authors' tf-cpn (``create_refine_net``):
pyramid level i (0 = finest) passes through i bottlenecks (256 out, 128 wide:
:class:`~pose_plugins.models.layers.refine_bottleneck.RefineBottleneck`), is bilinearly upsampled to the output
size, all levels are concatenated, and a final bottleneck (with a 1x1 projection, L * 256 -> 256) and a 3x3 conv
(bias) to K heatmaps predict the refined heatmaps, supervised with online hard keypoint mining. As in
:class:`~pose_plugins.models.layers.global_net.GlobalNet`, the heatmap conv has no BN (tf-cpn's has; see there
why) and starts from N(0, 0.001).
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
    """Per-level bottleneck stacks (i blocks at level i), upsample, concat, final bottleneck, 3x3 conv to K.

    Parameters: ``levels.<i>`` (``nn.Identity`` for level 0, else i :class:`RefineBottleneck` blocks named
    ``levels.<i>.<j>``), ``final_bottleneck.0`` (with ``downsample`` projection), ``final_layer`` (3x3 conv).

    Note:
        - B: batch size
        - L: number of levels, ``num_levels``
        - C: ``channels`` (even); K: ``out_channels``
        - h_i, w_i: size of level i; (H, W): ``out_size``

    Args:
        num_levels (int): Number of pyramid levels L.
        channels (int): Pyramid width C; the bottlenecks are C / 2 wide (256 / 128 in the paper).
        out_channels (int): Number of keypoints K.
        norm_cfg (dict, optional): mmcv norm config. Default: ``dict(type='BN')``.

    Shapes:
        forward: L maps (B, C, h_i, w_i), finest first -> heatmaps (B, K, H, W).
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
        """N(0, 0.001) weights and zero bias for the heatmap conv (see :meth:`GlobalNet.init_weights`)."""
        normal_init(self.final_layer, std=0.001, bias=0)

    def forward(self, pyramid: Sequence[Tensor], out_size: Tuple[int, int]) -> Tensor:
        """Refined heatmaps.

        Args:
            pyramid (Sequence[Tensor]): L GlobalNet pyramid maps (B, C, h_i, w_i), finest first.
            out_size (Tuple[int, int]): Heatmap size (H, W).

        Returns:
            Tensor: (B, K, H, W).
        """
        if len(pyramid) != self.num_levels:
            raise ValueError(f'RefineNet expects {self.num_levels} pyramid levels, got {len(pyramid)}')
        upsampled = [
            F.interpolate(level(p), size=out_size, mode='bilinear', align_corners=False)
            for level, p in zip(self.levels, pyramid)
        ]
        return self.final_layer(self.final_bottleneck(torch.cat(upsampled, dim=1)))
