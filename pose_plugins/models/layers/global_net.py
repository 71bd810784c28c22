"""CPN's GlobalNet: a feature pyramid over the backbone stages, with a heatmap prediction at every level.

Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation", CVPR 2018
(https://arxiv.org/abs/1711.07319), Sec. 3.1 and Fig. 1, as in the authors' tf-cpn (``create_global_net``):

- lateral: per level a 1x1 conv to ``channels`` with BN and ReLU;
- top-down: the coarser level's pyramid feature is bilinearly upsampled to this level's size and passed through a
  1x1 conv (bias, no BN, no activation; CPN uses 1x1 where FPN uses 3x3), then added to the lateral;
- prediction: per level a 1x1 conv (BN, ReLU) and a 3x3 conv (bias) to K heatmaps, bilinearly resized to the
  output size (intermediate supervision).

tf-cpn's ``slim`` scope also puts BN after the 3x3 heatmap conv (pytorch-cpn and mmpose's ``MSPNHead`` keep it):
with its 0-255 targets a unit-variance output is on the targets' scale, but with our peak-1 targets
(:class:`~pose_plugins.codecs.blur_heatmap.CPNBlurHeatmap`) it starts every pixel about 1 away from the
near-zero target and training first has to shrink BN's scale (measured: loss still 1.46 after 40 Adam steps).
We use a plain conv initialised with N(0, 0.001) (:meth:`init_weights`), as SimpleBaseline / HRNet's final layer.

Bilinear resizing uses ``align_corners=False`` (TF1's ``resize_bilinear`` matches neither PyTorch mode).
"""
from typing import List, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import normal_init
from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

__all__ = ['GlobalNet']


class GlobalNet(nn.Module):
    """Feature pyramid (lateral 1x1 + upsampled 1x1) and per-level heatmap predictors.

    Parameters: ``laterals.<i>`` (ConvModule 1x1, level i), ``merges.<i>`` (1x1 conv on the upsampled level
    i + 1, added at level i; none for the coarsest level), ``predictors.<i>`` (1x1 ConvModule, 3x3 conv).
    Levels are numbered as the backbone returns them: 0 = finest (C2, stride 4).

    Note:
        - B: batch size
        - L: number of levels, ``len(in_channels)``
        - C_i: ``in_channels[i]``; C: ``channels``; K: ``out_channels``
        - h_i, w_i: size of level i; (H, W): ``out_size``

    Args:
        in_channels (Sequence[int]): Channels C_i of each backbone level, finest first (ResNet-50:
            ``(256, 512, 1024, 2048)``).
        channels (int): Pyramid width C (256 in the paper).
        out_channels (int): Number of keypoints K.
        norm_cfg (dict, optional): mmcv norm config. Default: ``dict(type='BN')``.

    Shapes:
        forward: L maps (B, C_i, h_i, w_i) -> (L pyramid maps (B, C, h_i, w_i), L heatmaps (B, K, H, W)), both
        finest level first.
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
        """N(0, 0.001) weights and zero bias for the heatmap convs (the rest keeps the head's ``init_cfg``).

        mmengine's ``BaseModule.init_weights`` of the owning head calls this after applying the head's own
        ``init_cfg`` and before loading a ``Pretrained`` checkpoint.
        """
        for predictor in self.predictors:
            normal_init(predictor[-1], std=0.001, bias=0)

    def forward(self, feats: Sequence[Tensor], out_size: Tuple[int, int]) -> Tuple[List[Tensor], List[Tensor]]:
        """Pyramid features and per-level heatmaps.

        Args:
            feats (Sequence[Tensor]): L maps (B, C_i, h_i, w_i), finest first.
            out_size (Tuple[int, int]): Heatmap size (H, W).

        Returns:
            Tuple[List[Tensor], List[Tensor]]: Pyramid maps (B, C, h_i, w_i) and heatmaps (B, K, H, W), each
            finest level first.
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
