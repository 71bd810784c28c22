"""Stacked Hourglass residual (Newell et al., ECCV 2016, Fig. 4; authors' ``Residual.lua``): a pre-activation
bottleneck of half width with no activation after the sum, hence not a :class:`ResidualBlock`. Unlike the
authors' code, convs that feed a norm have no bias.
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
    """(B, C_in, H, W) -> (B, C_out, H, W); 1x1 conv skip when C_in != C_out.

    Args:
        in_channels, out_channels (int): C_in, C_out (even).
        norm_cfg, conv_cfg (dict, optional), with_cp (bool): As :class:`ResidualBlock`.
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
        return self._maybe_checkpoint(self._residual, x) + (x if self.skip is None else self.skip(x))
