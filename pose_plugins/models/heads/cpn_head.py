"""Cascaded Pyramid Network head (Chen et al., CVPR 2018), following the authors' tf-cpn."""
from collections.abc import Mapping
from types import MappingProxyType
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmpose.utils.typing import ConfigType, OptConfigType
from torch import Tensor, nn

from pose_plugins.models.heads.base_pose_head import BasePoseHead
from pose_plugins.models.layers.global_net import GlobalNet
from pose_plugins.models.layers.refine_net import RefineNet
from pose_plugins.registry import MODELS

__all__ = ['CPNHead']

#: tf-cpn's losses: GlobalNet ``sum_l mean((out_l - target_l)^2) / L / 2``, RefineNet OHKM over 8 keypoints.
_DEFAULT_LOSSES: Tuple[Mapping, Mapping] = (
    MappingProxyType(dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True, loss_weight=0.5)),
    MappingProxyType(dict(type='pose_plugins.KeypointOHKMMSELoss', use_target_weight=True, topk=8)),
)


@MODELS.register_module()
class CPNHead(BasePoseHead):
    """:class:`GlobalNet` (per-level heatmaps, L2 loss) + :class:`RefineNet` (OHKM loss).

    Outputs come coarsest level first, then RefineNet, matching ``CPNBlurHeatmap(kernel_sizes=(15, 11, 9, 7))``
    targets: level l against target l, RefineNet against the sharpest. Unlike tf-cpn, both stages are masked by
    the keypoint weights (as mmpose's ``MSPNHead``), not by COCO visibility.

    Args:
        in_channels (Sequence[int]): Channels of the feature maps, finest first.
        out_channels (int): Number of keypoints K.
        channels (int): Width of the pyramid and RefineNet. Default: 256.
        norm_cfg (dict, optional): mmcv norm config. Default: ``dict(type='BN')``.
        loss (Sequence[dict], optional): ``[GlobalNet loss, RefineNet loss]``. Default: tf-cpn's,
            ``KeypointMSELoss(loss_weight=0.5)``, ``KeypointOHKMMSELoss(topk=8)``.
        decoder (dict, optional): Codec config for :meth:`predict`.
        init_cfg (dict | list[dict], optional): Default: Kaiming-normal convs, unit BN.
    """

    def __init__(self,
                 *,
                 in_channels: Sequence[int],
                 out_channels: int,
                 channels: int = 256,
                 norm_cfg: OptConfigType = None,
                 loss: Optional[Sequence[ConfigType]] = None,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(decoder=decoder, init_cfg=init_cfg)
        if (isinstance(in_channels, (str, bytes)) or not isinstance(in_channels, Sequence) or len(in_channels) < 1
                or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in in_channels)):
            raise ValueError('in_channels must be a non-empty sequence of positive ints (channels of each feature '
                             f'map, finest first), got {in_channels!r}')
        if isinstance(out_channels, bool) or not isinstance(out_channels, int) or out_channels < 1:
            raise ValueError(f'out_channels must be a positive int (number of keypoints), got {out_channels!r}')
        if loss is None:
            loss = _DEFAULT_LOSSES
        if isinstance(loss, Mapping) or not isinstance(loss, Sequence) or len(loss) != 2:
            raise ValueError('loss must be a list of two loss configs, [GlobalNet loss, RefineNet loss], got '
                             f'{loss!r}')

        self.in_channels = tuple(in_channels)
        self.out_channels = out_channels
        self.num_levels = len(self.in_channels)
        self.global_net = GlobalNet(
            in_channels=self.in_channels, channels=channels, out_channels=out_channels, norm_cfg=norm_cfg)
        self.refine_net = RefineNet(
            num_levels=self.num_levels, channels=channels, out_channels=out_channels, norm_cfg=norm_cfg)
        self.loss_module = nn.ModuleList(MODELS.build(dict(cfg)) for cfg in loss)

    @staticmethod
    def default_init_cfg() -> list:
        return [dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', layer=['_BatchNorm', 'GroupNorm'], val=1)]

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """L maps (B, C_i, h_i, w_i), finest first -> L + 1 heatmaps (B, K, h_0, w_0): GlobalNet coarsest first,
        then RefineNet.
        """
        out_size = tuple(feats[0].shape[-2:])
        pyramid, global_heatmaps = self.global_net(feats, out_size)
        refined = self.refine_net(pyramid, out_size)
        return tuple(global_heatmaps[::-1]) + (refined, )

    def prediction_outputs(self, outputs: Sequence[Tensor]) -> Dict[str, Tensor]:
        return dict(heatmaps=outputs[-1])

    def loss_terms(self, outputs: Sequence[Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``loss_kpt = mean_l global_loss + refine_loss``, and its terms ``mse_global``, ``ohkm_refine`` (detached).

        Args:
            outputs (Sequence[Tensor]): The L + 1 heatmaps of :meth:`forward`.
            targets (dict): ``heatmaps`` (B, L, K, H, W), coarsest first; ``keypoint_weights`` (L, B, K) or (B, K).
        """
        *global_heatmaps, refined = outputs
        gt_heatmaps, keypoint_weights = targets['heatmaps'], targets['keypoint_weights']
        if gt_heatmaps.ndim != 5 or gt_heatmaps.shape[1] != self.num_levels:
            levels = gt_heatmaps.shape[1] if gt_heatmaps.ndim == 5 else 'single-level'
            raise ValueError(
                f'CPNHead with {self.num_levels} levels needs {self.num_levels}-level target heatmaps, got '
                f'{levels} gt_fields; generate them with GenerateTarget(encoder=dict(type='
                f"'pose_plugins.CPNBlurHeatmap', kernel_sizes=<{self.num_levels} sizes>, ...))")
        if keypoint_weights.ndim == 2:
            keypoint_weights = keypoint_weights.expand(self.num_levels, -1, -1)  # (L, B, K)
        global_loss = torch.stack([
            self.loss_module[0](pred, gt_heatmaps[:, level], keypoint_weights[level])
            for level, pred in enumerate(global_heatmaps)
        ]).mean()
        refine_loss = self.loss_module[1](refined, gt_heatmaps[:, -1], keypoint_weights[-1])
        return dict(loss_kpt=global_loss + refine_loss, mse_global=global_loss.detach(),
                    ohkm_refine=refine_loss.detach())
