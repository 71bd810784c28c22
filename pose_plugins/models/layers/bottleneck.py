"""ResNet bottleneck block (He et al., CVPR 2016, Fig. 5): 1x1 -> 3x3 -> 1x1 convs, expansion 4.

Parameter names equal torchvision's / mmpose's. ``style='pytorch'`` strides the 3x3 conv, ``'caffe'`` the first 1x1.
"""
from typing import ClassVar

from torch import Tensor

from .named_norm import NamedNormMixin
from .residual_block import ResidualBlock

__all__ = ['Bottleneck']


class Bottleneck(ResidualBlock):
    """Bottleneck block.

    x: (N, ``inplanes``, H, W) -> (N, ``planes * expansion``, ceil(H / stride), ceil(W / stride)); the 3x3 conv is
    ``planes`` wide and dilated. Args as :class:`ResidualBlock`.
    """

    expansion: int = 4
    num_norms: ClassVar[int] = 3

    norm3 = NamedNormMixin.norm_property(3)

    def _build_layers(self) -> None:
        conv1_stride, conv2_stride = (1, self.stride) if self.style == 'pytorch' else (self.stride, 1)
        self._conv_norm(1, self.inplanes, self.planes, kernel_size=1, stride=conv1_stride)
        self._conv_norm(2, self.planes, self.planes, kernel_size=3, stride=conv2_stride, dilation=self.dilation)
        self._conv_norm(3, self.planes, self.out_channels, kernel_size=1)

    def _residual(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu(self.norm2(self.conv2(out)))
        return self.norm3(self.conv3(out))
