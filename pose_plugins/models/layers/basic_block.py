"""The ResNet basic residual block (two 3x3 convs).

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, Fig. 2 / Table 1 (ResNet-18/34). HRNet
(Sun et al., CVPR 2019) uses this block in every branch of stages 2-4.

Parameter names follow torchvision / mmpose (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``downsample.0`` (1x1 conv),
``downsample.1`` (norm)), so their checkpoints load with ``strict=True``. The norm layers are named by mmcv's
``build_norm_layer`` (``bn1`` for BN/SyncBN, ``gn1`` for GN ...), exactly as mmpose names them. As in mmpose,
``dilation`` applies to ``conv1`` only (``conv2`` has dilation 1), and ``style`` changes nothing.
"""
from typing import ClassVar

from torch import Tensor

from .residual_block import ResidualBlock

__all__ = ['BasicBlock']


class BasicBlock(ResidualBlock):
    """Basic residual block: ``relu(norm2(conv2(relu(norm1(conv1(x))))) + downsample(x))``.

    Note:
        N images, C_in = ``inplanes``, C_out = ``planes * expansion`` = ``planes``, s = ``stride``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))

    Args:
        Those of :class:`~pose_plugins.models.layers.residual_block.ResidualBlock` (keyword-only);
        ``expansion`` must be 1 (or None).
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
