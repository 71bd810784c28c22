"""CPN's RefineNet bottleneck: the ResNet bottleneck with expansion 2 (256 out, 128 wide).

Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation", CVPR 2018, Sec. 3.2 / Fig. 1: RefineNet
stacks bottleneck blocks on the 256-channel GlobalNet features. The authors' tf-cpn calls
``resnet_v1.bottleneck(x, depth=256, depth_bottleneck=128)``, and pytorch-cpn's RefineNet ``Bottleneck`` has
``expansion = 2``: 1x1 conv to 128, 3x3 conv at 128, 1x1 conv to 256. The shared
:class:`~pose_plugins.models.layers.bottleneck.Bottleneck` (expansion 4) cannot express 128 -> 256 (``planes=64``
would make the 3x3 conv 64 wide, ``planes=128`` the output 512), so this subclass changes only ``expansion``;
every layer, the residual path and the projection rules are the shared block's.
"""
from .bottleneck import Bottleneck

__all__ = ['RefineBottleneck']


class RefineBottleneck(Bottleneck):
    """:class:`Bottleneck` with ``expansion = 2``: ``planes`` wide, ``2 * planes`` output channels.

    Note:
        N images, C_in = ``inplanes``, C_mid = ``planes``, C_out = ``2 * planes``, s = ``stride``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))

    Args:
        Those of :class:`Bottleneck` (keyword-only): ``inplanes``, ``planes``, ``stride``, ``downsample``,
        ``norm_cfg``, ``conv_cfg``, ``with_cp``.
    """

    expansion: int = 2
