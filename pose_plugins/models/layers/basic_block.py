"""ResNet basic block (He et al., CVPR 2016), also HRNet's branch block.

Parameter names equal torchvision's / mmpose's; as in mmpose, ``dilation`` applies to ``conv1`` only.
"""
from typing import ClassVar

from torch import Tensor

from .residual_block import ResidualBlock

__all__ = ['BasicBlock']


class BasicBlock(ResidualBlock):
    """Two 3x3 convs: ``relu(norm2(conv2(relu(norm1(conv1(x))))) + downsample(x))``.

    x: (N, ``inplanes``, H, W) -> (N, ``planes``, ceil(H / stride), ceil(W / stride)). Args as
    :class:`ResidualBlock`; ``expansion`` must be 1.
    """

    expansion: int = 1
    variable_expansion: ClassVar[bool] = False
    num_norms: ClassVar[int] = 2

    def _build_layers(self) -> None:
        self._conv_norm(1, self.inplanes, self.planes, kernel_size=3, stride=self.stride, dilation=self.dilation)
        self._conv_norm(2, self.planes, self.out_channels, kernel_size=3)

    def _residual(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        return self.norm2(self.conv2(out))
