"""``ResidualBlock``: base of the post-activation residual blocks (He et al., CVPR 2016), with mmpose's block
arguments, written as torchvision's ``inplanes`` / ``planes``.
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
    """``relu(_residual(x) + downsample(x))``: (N, inplanes, H, W) -> (N, planes * expansion, H / stride, W / stride).

    Args:
        inplanes, planes (int): Input channels and block width.
        stride, dilation (int): Of the block / its 3x3 conv. Default: 1.
        style (str): ``'pytorch'`` or ``'caffe'`` (only bottlenecks differ). Default: ``'pytorch'``.
        downsample (nn.Module, optional): Identity-path projection, required when the shape changes.
        expansion (int, optional): Output / width ratio. Default: the class's.
        norm_cfg, conv_cfg (dict, optional): mmcv configs. Default: ``dict(type='BN')``, ``nn.Conv2d``.
        with_cp (bool): Activation checkpointing. Default: False.
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
        raise NotImplementedError

    def _conv_norm(self, index: int, in_channels: int, out_channels: int, *, kernel_size: int, stride: int = 1,
                   dilation: int = 1) -> None:
        self._add_conv_norm(index, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                            dilation=dilation, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)

    def zero_init_last(self) -> None:
        """Zero the last norm so the block starts as ``relu(identity)`` (Goyal et al., 2017)."""
        constant_init(self.get_norm(self.num_norms), 0)

    def _residual(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _residual_plus_identity(self, x: Tensor) -> Tensor:
        out = self._residual(x)  # a new tensor: add the identity in place, as mmpose
        out += x if self.downsample is None else self.downsample(x)
        return out

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self._maybe_checkpoint(self._residual_plus_identity, x))
