"""The residual module of the Stacked Hourglass network: a pre-activation bottleneck of half width.

Newell, Yang, Deng, "Stacked Hourglass Networks for Human Pose Estimation", ECCV 2016, Sec. 3.2 and Fig. 4
(left): every box of the network is this module, with no filter larger than 3x3 and a bottleneck that keeps the
parameter count down. The authors' released code (umich-vl/pose-hg-train, ``Residual.lua``)
fixes the details followed here: ``norm -> ReLU -> conv`` three times (1x1 to C_out/2, 3x3 at C_out/2, 1x1 to
C_out) on the residual path, a plain 1x1 conv on the skip path when the channel count changes (identity
otherwise), and the sum returned as is, with no activation after it.

Why pre-activation: it is what Newell et al. use (He et al., "Identity Mappings in Deep Residual Networks",
ECCV 2016, Fig. 1b), and it keeps the skip path of the hourglass and of the stacks a pure sum, which the
inter-stack links (``x + 1x1(features) + 1x1(heatmaps)``) rely on. That is also why this module does not derive
from :class:`~pose_plugins.models.layers.residual_block.ResidualBlock`, whose blocks are post-activation
(``relu(residual + identity)``) with the norms after the convs.

Differences from the seed write-up's TensorFlow code (its slips, not the paper): it uses post-activation with a
ReLU after the sum and a bottleneck of C_out/4; the paper's code uses pre-activation and C_out/2.
Difference from the authors' code: convs that feed a norm layer directly (``conv1``, ``conv2``) have no bias
(the norm's shift makes it redundant); ``conv3`` and the skip conv, whose outputs are summed unnormalized, have
one.
"""
from typing import Optional

from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

from .checkpoint_mixin import CheckpointMixin
from .conv_norm_act import ConvNormAct
from .named_norm import NamedNormMixin
from .validation import check_count

__all__ = ['HourglassResidual']


class HourglassResidual(NamedNormMixin, CheckpointMixin, nn.Module):
    """``conv3(relu(norm3(conv2(relu(norm2(conv1(relu(norm1(x)))))))) + skip(x)``.

    Note:
        B: batch size, C_in: ``in_channels``, C_out: ``out_channels``, C_mid = C_out // 2 (width of the
        bottleneck), H, W: spatial size (unchanged).

    Shapes:
        x: (B, C_in, H, W) -> (B, C_out, H, W)

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out; an even number >= 2.
        norm_cfg (dict, optional): mmcv norm config of the three norm layers. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): mmcv conv config of every conv. Default: ``None`` (``nn.Conv2d``).
        with_cp (bool): Recompute the residual path in backward (activation checkpointing). Default: False.

    Attributes:
        conv1, conv2, conv3: the 1x1, 3x3 and 1x1 convs; ``norm1``/``norm2``/``norm3`` (registered as ``bn1``
        ... for BN, ``gn1`` ... for GN, by mmcv's ``build_norm_layer``) precede them.
        skip (nn.Module | None): the 1x1 projection conv when C_in != C_out, else ``None`` (identity).
    """

    def __init__(self,
                 *,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: OptConfigType = None,
                 conv_cfg: OptConfigType = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        check_count('HourglassResidual', in_channels=in_channels, out_channels=out_channels)
        if out_channels % 2:
            raise ValueError(f'HourglassResidual: out_channels must be even (the bottleneck is out_channels / 2 '
                             f'wide), got {out_channels}')
        mid_channels = out_channels // 2
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.mid_channels = mid_channels
        self.with_cp = with_cp

        widths = ((in_channels, mid_channels, 1), (mid_channels, mid_channels, 3), (mid_channels, out_channels, 1))
        for index, (c_in, c_out, kernel_size) in enumerate(widths, start=1):  # pre-activation: norm, then conv
            self._add_norm(index, c_in, norm_cfg)
            self.add_module(f'conv{index}', ConvNormAct.build_conv(conv_cfg, c_in, c_out, kernel_size=kernel_size,
                                                                   bias=index == 3))
        self.relu = nn.ReLU(inplace=True)
        self.skip: Optional[nn.Module] = (
            ConvNormAct.build_conv(conv_cfg, in_channels, out_channels, kernel_size=1, bias=True)
            if in_channels != out_channels else None)

    def _residual(self, x: Tensor) -> Tensor:
        out = x
        for index in (1, 2, 3):
            out = getattr(self, f'conv{index}')(self.relu(self.get_norm(index)(out)))
        return out

    def forward(self, x: Tensor) -> Tensor:
        """Apply the module.

        Args:
            x (Tensor): (B, C_in, H, W).

        Returns:
            Tensor: (B, C_out, H, W).
        """
        return self._maybe_checkpoint(self._residual, x) + (x if self.skip is None else self.skip(x))
