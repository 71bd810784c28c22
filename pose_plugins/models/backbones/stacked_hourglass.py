"""Stacked Hourglass network (Newell et al., ECCV 2016), following the authors' ``hg.lua``.

The backbone predicts every stack's heatmaps, which the inter-stack links need; ``StackedHeatmapHead`` only
supervises them. Not mmpose's ``HourglassNet`` (the CornerNet variant).
"""
from typing import Sequence

from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor, nn

from pose_plugins.models.layers.conv_norm_act import ConvNormAct
from pose_plugins.models.layers.hourglass_module import HourglassModule
from pose_plugins.models.layers.hourglass_residual import HourglassResidual
from pose_plugins.models.layers.pose_backbone import PoseBackbone
from pose_plugins.models.layers.validation import check_count, is_count
from pose_plugins.registry import MODELS

__all__ = ['StackedHourglass']


@MODELS.register_module()
class StackedHourglass(PoseBackbone):
    """Stride-4 stem, ``num_stacks`` hourglasses, one heatmap tensor per stack.

    Each stack: hourglass -> residual -> 1x1 conv-norm-ReLU -> 1x1 conv to K heatmaps; the next stack's input adds
    1x1 convs of these features and heatmaps.

    Args:
        out_channels (int): Number of keypoints K.
        num_stacks (int): Number of hourglasses S (the paper: 8). Default: 2.
        num_channels (int): Width after the stem (even). Default: 256.
        order (int): Halvings inside each hourglass. Default: 4.
        stem_channels (Sequence[int]): Widths of the 7x7 conv and first stem residuals. Default: ``(64, 128)``.
        in_channels (int): Image channels. Default: 3.
        norm_cfg, conv_cfg, with_cp, init_cfg: as :class:`PoseBackbone`; heatmap convs start from Normal(0.001).
    """

    def __init__(self,
                 *,
                 out_channels: int,
                 num_stacks: int = 2,
                 num_channels: int = 256,
                 order: int = 4,
                 stem_channels: Sequence[int] = (64, 128),
                 in_channels: int = 3,
                 norm_cfg: OptConfigType = None,
                 conv_cfg: OptConfigType = None,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer=['Conv2d'], mode='fan_out', nonlinearity='relu',
                     override=dict(type='Normal', name='heatmap_convs', std=0.001, bias=0)),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm']),
            ]
        super().__init__(conv_cfg=conv_cfg, norm_cfg=norm_cfg, with_cp=with_cp, init_cfg=init_cfg)
        check_count('StackedHourglass', out_channels=out_channels, num_stacks=num_stacks, num_channels=num_channels,
                    order=order, in_channels=in_channels)
        stem_channels = tuple(stem_channels)
        if len(stem_channels) != 2 or not all(is_count(c) for c in stem_channels):
            raise ValueError('StackedHourglass: stem_channels must be two positive ints (7x7 conv width, stem '
                             f'residual width), got {stem_channels!r}')
        norm_cfg = self.norm_cfg
        self.out_channels = out_channels
        self.num_stacks = num_stacks
        self.num_channels = num_channels
        self.order = order
        #: Input height and width must be multiples of this.
        self.size_divisor = 2**(order + 2)

        def residual(c_in: int, c_out: int) -> HourglassResidual:
            return HourglassResidual(in_channels=c_in, out_channels=c_out, norm_cfg=norm_cfg, conv_cfg=conv_cfg,
                                     with_cp=with_cp)

        def conv1x1(c_in: int, c_out: int) -> nn.Module:  # biased: its output is summed, not normalized
            return ConvNormAct.build_conv(conv_cfg, c_in, c_out, kernel_size=1, bias=True)

        c_conv, c_res = stem_channels
        self.stem = nn.Sequential(
            *ConvNormAct(in_channels, c_conv, kernel_size=7, stride=2, conv_cfg=conv_cfg, norm_cfg=norm_cfg),
            residual(c_conv, c_res),
            nn.MaxPool2d(kernel_size=2, stride=2),
            residual(c_res, c_res),
            residual(c_res, num_channels),
        )
        self.hourglasses = nn.ModuleList(
            HourglassModule(order=order, channels=num_channels, norm_cfg=norm_cfg, conv_cfg=conv_cfg,
                            with_cp=with_cp) for _ in range(num_stacks))
        self.features = nn.ModuleList(
            nn.Sequential(
                residual(num_channels, num_channels),
                *ConvNormAct(num_channels, num_channels, kernel_size=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg),
            ) for _ in range(num_stacks))
        self.heatmap_convs = nn.ModuleList(conv1x1(num_channels, out_channels) for _ in range(num_stacks))
        self.feature_links = nn.ModuleList(conv1x1(num_channels, num_channels) for _ in range(num_stacks - 1))
        self.heatmap_links = nn.ModuleList(conv1x1(out_channels, num_channels) for _ in range(num_stacks - 1))

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """Images (B, C_in, H, W) -> S heatmaps (B, K, H / 4, W / 4), first stack first.

        Raises:
            ValueError: H or W is not a multiple of 2**(order + 2).
        """
        height, width = x.shape[-2:]
        if height % self.size_divisor or width % self.size_divisor:
            raise ValueError(
                f'StackedHourglass(order={self.order}) needs an input height and width that are multiples of '
                f'2**(order + 2) = {self.size_divisor} (stride-4 stem, then {self.order} halvings), got '
                f'{height}x{width} (H x W)')
        inputs = self.stem(x)
        heatmaps: list[Tensor] = []
        for s in range(self.num_stacks):
            feats = self.features[s](self.hourglasses[s](inputs))
            heatmaps.append(self.heatmap_convs[s](feats))
            if s < self.num_stacks - 1:
                inputs = inputs + self.feature_links[s](feats) + self.heatmap_links[s](heatmaps[-1])
        return tuple(heatmaps)
