"""Newell's Stacked Hourglass network; it predicts the heatmaps of every stack itself.

Newell, Yang, Deng, "Stacked Hourglass Networks for Human Pose Estimation", ECCV 2016
(https://arxiv.org/abs/1603.06937), Sec. 3.1-3.3 and Fig. 3-4, with the details of the authors' code
(umich-vl/pose-hg-train, ``hg.lua``):

* stem: 7x7 stride-2 conv (64) + norm + ReLU -> residual (128) -> 2x2 max-pool -> residual (128) ->
  residual (``num_channels``, 256): a 256x256 image becomes 64x64 features;
* each stack: an :class:`~pose_plugins.models.layers.hourglass_module.HourglassModule` of ``order`` 4 ->
  residual -> 1x1 conv + norm + ReLU (the stack's features) -> 1x1 conv to K heatmaps;
* between stacks (Sec. 3.3, Fig. 4 right): next input = this stack's input + 1x1 conv(features) +
  1x1 conv(heatmaps), so later stacks re-evaluate the earlier predictions.

Every residual is :class:`~pose_plugins.models.layers.hourglass_residual.HourglassResidual` (pre-activation,
bottleneck of half width). Because the inter-stack links need each stack's heatmaps, the heatmap convs live in
this backbone and :meth:`StackedHourglass.forward` returns one heatmap tensor per stack; the head
(``pose_plugins.StackedHeatmapHead``) has no parameters and supervises every stack (intermediate supervision).

Not mmpose's ``HourglassNet``: that is the CornerNet variant (Law & Deng, ECCV 2018) with post-activation
BasicBlocks, strided-conv downsampling, varying widths and a separate head. The seed write-up's TensorFlow code
has slips that are not followed here: an average-pool in the stem (the paper's code max-pools), quarter-width
post-activation bottlenecks (see ``HourglassResidual``) and a call to an undefined ``hour_glass1``.

Parameter names are our own (the original code is Lua Torch; there are no mmpose checkpoints of this model).
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
    """Stacked Hourglass network: stride-4 stem, ``num_stacks`` hourglasses, one set of heatmaps per stack.

    Note:
        - B: batch size
        - C_in: ``in_channels``
        - S: ``num_stacks``
        - K: number of keypoints, ``out_channels``
        - H, W: input size, multiples of 2**(``order`` + 2) (stride-4 stem, then ``order`` halvings)

    Shapes:
        - x: (B, C_in, H, W)
        - output: tuple of S heatmap tensors, each (B, K, H / 4, W / 4), first stack first; the last one is the
          prediction. E.g. S=2, K=17: (B, 3, 256, 256) -> ((B, 17, 64, 64), (B, 17, 64, 64)).

    Args:
        out_channels (int): Number of keypoints K (heatmaps per stack).
        num_stacks (int): Number of hourglasses S (Newell et al.: 8; the paper's ablation also uses 2 and 4).
            Default: 2.
        num_channels (int): Width of every hourglass, residual and 1x1 layer after the stem (even).
            Default: 256.
        order (int): Halvings inside each hourglass (4: 64x64 -> 4x4). Default: 4.
        stem_channels (Sequence[int]): Widths of the stem's 7x7 conv and of its first two residuals,
            ``(64, 128)`` in the paper; smaller values make a cheaper network (even numbers). Default:
            ``(64, 128)``.
        in_channels (int): Image channels C_in. Default: 3.
        norm_cfg (dict, optional): mmcv norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): mmcv conv config of every conv. Default: ``None`` (``nn.Conv2d``).
        with_cp (bool): Activation checkpointing in every residual module. Default: False.
        init_cfg (dict | list[dict], optional): mmengine init config. Default: Kaiming-normal (fan_out) convs,
            constant-1 norm weights, and Normal(std=0.001) for the heatmap convs (so every stack starts near
            zero heatmaps, as mmpose's heatmap heads initialise their final conv).

    Attributes:
        stem (nn.Sequential): conv, norm, ReLU, residual, max-pool, residual, residual.
        hourglasses (nn.ModuleList): S :class:`HourglassModule` s.
        features (nn.ModuleList): per stack, residual -> 1x1 conv -> norm -> ReLU.
        heatmap_convs (nn.ModuleList): per stack, the 1x1 conv to K heatmaps.
        feature_links, heatmap_links (nn.ModuleList): S - 1 1x1 convs each, from the features / heatmaps of
            stack s to the input of stack s + 1.
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
        """Heatmaps of every stack.

        Args:
            x (Tensor): Images (B, C_in, H, W), H and W multiples of 2**(order + 2).

        Returns:
            tuple[Tensor]: S tensors (B, K, H / 4, W / 4), stack 1 first.
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
