"""One hourglass of order n, defined recursively.

Newell, Yang, Deng, "Stacked Hourglass Networks for Human Pose Estimation", ECCV 2016, Sec. 3.1, Fig. 3: at
each resolution the features are kept by an upper branch and processed at half resolution by a lower branch,
the two summed after nearest-neighbour upsampling; the lower branch of an order-n hourglass contains an
order-(n-1) hourglass, down to a single residual module at the lowest resolution (4x4 pixels for order 4 on
the 64x64 features of a 256x256 image). Names follow the authors' code
(``hg.lua``: ``up1``, ``low1``, ``low2``, ``low3``), with one residual module per position as in the paper.
"""
from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn
from torch.nn import functional as F

from .hourglass_residual import HourglassResidual
from .validation import check_count

__all__ = ['HourglassModule']


class HourglassModule(nn.Module):
    """``up1(x) + upsample2x(low3(low2(low1(maxpool2x2(x)))))``; ``low2`` is an order-(n-1) hourglass or, for
    order 1, a residual module.

    Every residual module keeps the ``channels`` width, so input and output have the same shape. An order-n
    hourglass has n max-pools and n nearest x2 upsamplings, and 3n + 1 residual modules.

    Note:
        B: batch size, C: ``channels``, n: ``order``, H, W: spatial size, both multiples of 2**n.

    Shapes:
        x: (B, C, H, W) -> (B, C, H, W)

    Args:
        order (int): Number of halvings n (>= 1). Newell et al. use 4 (64x64 -> 4x4).
        channels (int): Width C of every residual module (even).
        norm_cfg (dict, optional): mmcv norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): mmcv conv config of every conv. Default: ``None``.
        with_cp (bool): Activation checkpointing in every residual module. Default: False.
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
        """Apply the hourglass.

        Args:
            x (Tensor): (B, C, H, W) with H and W multiples of 2**order.

        Returns:
            Tensor: (B, C, H, W).
        """
        height, width = x.shape[-2:]
        if height % 2 or width % 2:
            raise ValueError(f'HourglassModule of order {self.order} needs an input whose height and width are '
                             f'multiples of 2**{self.order} = {2**self.order}; at this level got {height}x{width}')
        low = self.low3(self.low2(self.low1(F.max_pool2d(x, kernel_size=2, stride=2))))
        return self.up1(x) + F.interpolate(low, scale_factor=2, mode='nearest')
