"""Cascaded Pyramid Network head: GlobalNet (feature pyramid + per-level heatmaps) and RefineNet.

Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation", CVPR 2018
(https://arxiv.org/abs/1711.07319), following the authors' tf-cpn (``network.py``): GlobalNet's pyramid levels
each predict heatmaps supervised with an L2 loss against a target blurred with a level-specific Gaussian kernel
(larger for coarser levels), and RefineNet, fed with all pyramid levels, predicts the final heatmaps supervised
with online hard keypoint mining (OHKM, the 8 hardest of 17 keypoints) against the sharpest target.

Prediction (flip test, decoding) and ``acc_pose`` come from
:class:`~pose_plugins.models.heads.base_pose_head.BasePoseHead`, applied to RefineNet's heatmaps.
"""
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
    """CPN head: :class:`~pose_plugins.models.layers.global_net.GlobalNet` +
    :class:`~pose_plugins.models.layers.refine_net.RefineNet` on the backbone's multi-scale features.

    ``forward`` returns L + 1 heatmaps: GlobalNet's L levels from the **coarsest** (C5) to the finest (C2), then
    RefineNet's. This is the order of the targets of
    :class:`~pose_plugins.codecs.blur_heatmap.CPNBlurHeatmap` with ``kernel_sizes=(15, 11, 9, 7)``: GlobalNet
    output ``l`` is supervised by target level ``l``, RefineNet by the last (sharpest) level -- the pairing
    tf-cpn's code marks as intended (``labels.reverse()``; its released model paired the finest level with the
    widest kernel) and the one of mmpose's ``MSPNHead`` configs (unit 0 = coarsest = widest kernel).

    Losses (``loss=[global_loss, refine_loss]``, one config per stage, as mmpose's ``MSPNHead`` takes a list):
    ``loss_kpt = mean_l global_loss(global_l, target_l, w) + refine_loss(refine, target_{L-1}, w)``; the two
    terms are also logged (detached) as ``mse_global`` and ``ohkm_refine`` (names without "loss" so mmengine
    does not add them twice). The defaults reproduce tf-cpn's weighting: GlobalNet MSE with weight 0.5 (tf-cpn
    divides its GlobalNet loss by 2), RefineNet OHKM of the 8 hardest keypoints, both masked by the keypoint
    weights. tf-cpn masks GlobalNet to keypoints with COCO visibility 2 (and RefineNet to visibility >= 1) and
    zeroes the *target* rather than the loss; mmpose's datasets reduce visibility to 0/1, so both stages use the
    keypoint weights here, as mmpose's ``MSPNHead``.

    Note:
        - B: batch size (one instance per top-down crop)
        - L: number of pyramid levels, ``len(in_channels)``
        - C_i: ``in_channels[i]``; C: ``channels``; K: ``out_channels``
        - (H, W): heatmap size = size of the finest feature map (stride 4 with a ResNet: 64x48 for 256x192)

    Args:
        in_channels (Sequence[int]): Channels of the backbone's feature maps, finest first (ResNet-50 with
            ``out_indices=(0, 1, 2, 3)``: ``(256, 512, 1024, 2048)``).
        out_channels (int): Number of keypoints K.
        channels (int): Width C of the pyramid and of RefineNet (bottlenecks C / 2 wide). Default: 256.
        norm_cfg (dict, optional): mmcv norm config of every norm layer. Default: ``dict(type='BN')``.
        loss (Sequence[dict], optional): Two loss configs, ``[GlobalNet loss, RefineNet loss]``, built by
            :data:`pose_plugins.registry.MODELS`. ``None`` means
            ``[dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True, loss_weight=0.5),
            dict(type='pose_plugins.KeypointOHKMMSELoss', use_target_weight=True, topk=8)]``.
        decoder (dict, optional): Codec config used by :meth:`predict` (usually the multi-level
            ``pose_plugins.CPNBlurHeatmap`` of the targets), built by
            :data:`pose_plugins.registry.KEYPOINT_CODECS`. ``None`` disables :meth:`predict`.
        init_cfg (dict | list[dict], optional): mmengine init config. ``None`` means Kaiming-normal convs and
            BatchNorm weight 1 / bias 0 (pytorch-cpn's and mmpose ``MSPNHead``'s initialisation); whatever it
            is, the 3x3 heatmap convs are then set to N(0, 0.001) by GlobalNet's / RefineNet's
            ``init_weights`` (a ``Pretrained`` checkpoint is still loaded last).

    Shapes:
        - forward input: L feature maps (B, C_i, h_i, w_i), finest first
        - forward output: tuple of L + 1 heatmaps (B, K, H, W): GlobalNet coarsest ... finest, then RefineNet
        - targets (from the data samples): ``gt_fields`` with L heatmap levels (K, H, W), coarsest-level
          target first; ``gt_instance_labels.keypoint_weights`` (L, 1, K) (or (1, K), shared by all levels)
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
        """Kaiming-normal convs and norm weight 1 / bias 0 (pytorch-cpn's and mmpose ``MSPNHead``'s init)."""
        return [dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', layer=['_BatchNorm', 'GroupNorm'], val=1)]

    def forward(self, feats: Sequence[Tensor]) -> Tuple[Tensor, ...]:
        """GlobalNet's per-level heatmaps (coarsest first) and RefineNet's heatmaps (last).

        Args:
            feats (Sequence[Tensor]): L feature maps (B, C_i, h_i, w_i), finest first.

        Returns:
            Tuple[Tensor, ...]: L + 1 heatmaps (B, K, H, W), (H, W) the finest map's size: GlobalNet levels from
            the coarsest to the finest, then RefineNet.
        """
        out_size = tuple(feats[0].shape[-2:])
        pyramid, global_heatmaps = self.global_net(feats, out_size)
        refined = self.refine_net(pyramid, out_size)
        return tuple(global_heatmaps[::-1]) + (refined, )

    def prediction_outputs(self, outputs: Sequence[Tensor]) -> Dict[str, Tensor]:
        """RefineNet's heatmaps (B, K, H, W), the last output, are decoded and scored."""
        return dict(heatmaps=outputs[-1])

    def loss_terms(self, outputs: Sequence[Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """GlobalNet + RefineNet losses.

        Args:
            outputs (Sequence[Tensor]): L GlobalNet heatmaps (coarsest first) and RefineNet's, each (B, K, H, W).
            targets (dict): ``heatmaps`` (B, L, K, H, W) from multi-level ``gt_fields`` (coarsest-level target
                first) and ``keypoint_weights`` (L, B, K), or (B, K) shared by all levels.

        Returns:
            dict: ``loss_kpt`` (the total, scalar), ``mse_global`` and ``ohkm_refine`` (its two terms, detached).
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
