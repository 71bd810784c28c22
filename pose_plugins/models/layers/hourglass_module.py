"""One hourglass of order n (Newell et al., ECCV 2016, Sec. 3.1), named as the authors' ``hg.lua``."""
from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn
from torch.nn import functional as F

from .hourglass_residual import HourglassResidual
from .validation import check_count

__all__ = ['HourglassModule']


class HourglassModule(nn.Module):
    """``up1(x) + upsample2x(low3(low2(low1(maxpool2x2(x)))))``, ``low2`` an order-(n-1) hourglass (or a residual).

    Args:
        order (int): Number of halvings n.
        channels (int): Width C (even).
        norm_cfg, conv_cfg (dict, optional), with_cp (bool): As :class:`HourglassResidual`.
    """

    def __init__(self,
                 *,
                 order: int,
                 channels: int,
                 norm_cfg: OptConfigType = None,
                 conv_cfg: OptConfigType = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        check_count('HourglassModule', order=order)
        self.order = order
        self.channels = channels

        def residual() -> HourglassResidual:
            return HourglassResidual(in_channels=channels, out_channels=channels, norm_cfg=norm_cfg,
                                     conv_cfg=conv_cfg, with_cp=with_cp)

        self.up1 = residual()
        self.low1 = residual()
        self.low2: nn.Module = (
            HourglassModule(order=order - 1, channels=channels, norm_cfg=norm_cfg, conv_cfg=conv_cfg,
                            with_cp=with_cp) if order > 1 else residual())
        self.low3 = residual()

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W); ``ValueError`` unless H and W are multiples of 2**order."""
        height, width = x.shape[-2:]
        if height % 2 or width % 2:
            raise ValueError(f'HourglassModule of order {self.order} needs an input whose height and width are '
                             f'multiples of 2**{self.order} = {2**self.order}; at this level got {height}x{width}')
        low = self.low3(self.low2(self.low1(F.max_pool2d(x, kernel_size=2, stride=2))))
        return self.up1(x) + F.interpolate(low, scale_factor=2, mode='nearest')
