"""What every post-activation residual block shares: arguments and their checks, named norms, checkpointing.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016. :class:`BasicBlock` and
:class:`Bottleneck` (and CPN's :class:`RefineBottleneck`) subclass :class:`ResidualBlock` and only define their
layers (:meth:`ResidualBlock._build_layers`) and residual path (:meth:`ResidualBlock._residual`).

Arguments and their meaning are those of mmpose's blocks (``stride``, ``dilation``, ``style``, ``expansion``,
``downsample``, ``conv_cfg``, ``norm_cfg``, ``with_cp``), written as ``inplanes`` / ``planes`` (block width) as
torchvision does; mmpose's ``out_channels`` is ``planes * expansion``.
"""
from typing import ClassVar, Optional

import torch.nn as nn
from mmengine.model import constant_init
from mmpose.utils.typing import OptConfigType
from torch import Tensor

from .checkpoint_mixin import CheckpointMixin
from .named_norm import NamedNormMixin
from .validation import check_count

__all__ = ['ResidualBlock']

STYLES = ('pytorch', 'caffe')


class ResidualBlock(NamedNormMixin, CheckpointMixin, nn.Module):
    """Base of the residual blocks: ``relu(_residual(x) + downsample(x))``.

    The constructor checks the arguments, calls :meth:`_build_layers` (``conv1``, ``norm1`` ... via
    :meth:`_add_conv_norm`, registered under mmcv's names ``bn1``, ``gn1`` ... as mmpose and torchvision name
    them) and assigns ``downsample`` last, so parameters are registered in mmpose's order.

    Note:
        N images, C_in = ``inplanes``, C_out = ``planes * expansion``, s = ``stride``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))

    Args:
        inplanes (int): Input channels C_in.
        planes (int): Width of the block; the output has ``planes * expansion`` channels.
        stride (int): Stride of the block (on the 3x3 conv, or with ``style='caffe'`` on the first 1x1 conv of a
            bottleneck). Default: 1.
        dilation (int): Dilation (and padding) of the 3x3 conv that carries it (mmpose: ``conv1`` of a
            BasicBlock, ``conv2`` of a Bottleneck). Default: 1.
        style (str): ``'pytorch'`` or ``'caffe'`` (mmpose's ``style``; only bottlenecks differ). Default:
            ``'pytorch'``.
        downsample (nn.Module, optional): Maps the input to the output's shape on the identity path (usually
            1x1 conv + norm). Required when ``stride != 1`` or ``inplanes != planes * expansion``.
        expansion (int, optional): Output / width ratio; ``None`` means the class's (1 for BasicBlock, 4 for
            Bottleneck). Only blocks with ``variable_expansion`` accept another value. Default: None.
        norm_cfg (dict, optional): mmcv norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): mmcv conv config of every conv layer. Default: ``None`` (``nn.Conv2d``).
        with_cp (bool): Recompute the residual path in backward (activation checkpointing) to save memory.
            Default: False.
    """

    expansion: int = 1
    #: Whether ``expansion`` may differ from the class's value (mmpose asserts 1 for BasicBlock).
    variable_expansion: ClassVar[bool] = True
    #: Norm layers on the residual path; the last one is zeroed by :meth:`zero_init_last`.
    num_norms: ClassVar[int] = 2

    norm1 = NamedNormMixin.norm_property(1)
    norm2 = NamedNormMixin.norm_property(2)

    def __init__(self,
                 *,
                 inplanes: int,
                 planes: int,
                 stride: int = 1,
                 dilation: int = 1,
                 style: str = 'pytorch',
                 downsample: Optional[nn.Module] = None,
                 expansion: Optional[int] = None,
                 norm_cfg: OptConfigType = None,
                 conv_cfg: OptConfigType = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        check_count(name, inplanes=inplanes, planes=planes, stride=stride, dilation=dilation)
        if style not in STYLES:
            raise ValueError(f'{name}: style must be one of {STYLES}, got {style!r}')
        if expansion is not None:
            check_count(name, expansion=expansion)
            if not self.variable_expansion and expansion != type(self).expansion:
                raise ValueError(f'{name}: expansion must be {type(self).expansion}, got {expansion!r}')
            self.expansion = expansion
        if downsample is None and (stride != 1 or inplanes != planes * self.expansion):
            raise ValueError(
                f'{name}(inplanes={inplanes}, planes={planes}, stride={stride}) changes the shape '
                f'(output has planes * expansion = {planes * self.expansion} channels), so it needs a `downsample` '
                'module on the identity path')
        self.norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        self.conv_cfg = conv_cfg
        self.inplanes = inplanes
        self.planes = planes
        self.out_channels = planes * self.expansion
        self.stride = stride
        self.dilation = dilation
        self.style = style
        self.with_cp = with_cp
        self._build_layers()
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def _build_layers(self) -> None:
        """Register ``conv{i}`` and ``norm{i}`` (:meth:`_add_conv_norm`), using the attributes set above."""
        raise NotImplementedError

    def _conv_norm(self, index: int, in_channels: int, out_channels: int, *, kernel_size: int, stride: int = 1,
                   dilation: int = 1) -> None:
        """:meth:`_add_conv_norm` with the block's conv and norm configs."""
        self._add_conv_norm(index, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                            dilation=dilation, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)

    def zero_init_last(self) -> None:
        """Zero the last norm layer's affine parameters so the block starts as ``relu(identity)``.

        Goyal et al., "Accurate, Large Minibatch SGD", 2017, Sec. 5.1 (``zero_init_residual``).
        """
        constant_init(self.get_norm(self.num_norms), 0)

    def _residual(self, x: Tensor) -> Tensor:
        """The residual path, without the identity: (N, C_in, H, W) -> (N, C_out, H', W')."""
        raise NotImplementedError

    def _residual_plus_identity(self, x: Tensor) -> Tensor:
        out = self._residual(x)  # a new tensor (the last norm's output): the identity is added in place, as mmpose
        out += x if self.downsample is None else self.downsample(x)
        return out

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block.

        Args:
            x (Tensor): (N, C_in, H, W).

        Returns:
            Tensor: (N, C_out, ceil(H / stride), ceil(W / stride)).
        """
        return self.relu(self._maybe_checkpoint(self._residual_plus_identity, x))
