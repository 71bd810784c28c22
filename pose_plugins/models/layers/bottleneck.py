"""The ResNet bottleneck residual block (1x1 -> 3x3 -> 1x1 convs, expansion 4).

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Fig. 5 (ResNet-50/101/152). HRNet
(Sun et al., CVPR 2019) builds its stage 1 from four of these blocks of width 64.

By default the stride sits on the 3x3 conv (torchvision's "ResNet v1.5", mmpose's ``style='pytorch'``);
``style='caffe'`` puts it on the first 1x1 conv, as the original Caffe ResNet. Parameter names follow
torchvision / mmpose (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``conv3``, ``bn3``, ``downsample.0``,
``downsample.1``); norm layers are named by mmcv's ``build_norm_layer`` (``bn3`` for BN/SyncBN, ``gn3`` for GN
...), exactly as in mmpose.
"""
from typing import ClassVar

from torch import Tensor

from .named_norm import NamedNormMixin
from .residual_block import ResidualBlock

__all__ = ['Bottleneck']


class Bottleneck(ResidualBlock):
    """Bottleneck block: ``relu(norm3(conv3(relu(norm2(conv2(relu(norm1(conv1(x)))))))) + downsample(x))``.

    Note:
        N images, C_in = ``inplanes``, C_mid = ``planes`` (width of the 3x3 conv),
        C_out = ``planes * expansion`` (``4 * planes`` by default), s = ``stride``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))

    Args:
        Those of :class:`~pose_plugins.models.layers.residual_block.ResidualBlock` (keyword-only); ``stride``
        is on ``conv2`` (3x3, ``style='pytorch'``) or ``conv1`` (``style='caffe'``), ``dilation`` on ``conv2``.
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
