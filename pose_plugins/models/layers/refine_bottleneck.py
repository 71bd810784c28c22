"""CPN's RefineNet bottleneck (Chen et al., CVPR 2018, Sec. 3.2): expansion 2 (128 wide, 256 out), as the
authors' tf-cpn and pytorch-cpn; the shared expansion-4 :class:`Bottleneck` cannot express 128 -> 256.
"""
from .bottleneck import Bottleneck

__all__ = ['RefineBottleneck']


class RefineBottleneck(Bottleneck):
    """Bottleneck with ``expansion = 2``: x (N, C_in, H, W) -> (N, 2 * ``planes``, ceil(H / s), ceil(W / s))."""

    expansion: int = 2
