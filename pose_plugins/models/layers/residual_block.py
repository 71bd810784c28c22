"""What every residual block shares: argument checks, named norm layers, activation checkpointing.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016. :class:`BasicBlock` and
:class:`Bottleneck` subclass :class:`ResidualBlock` and only define their convolutions and ``_residual``.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmengine.model import constant_init
from mmpose.utils.typing import OptConfigType
from torch import Tensor

__all__ = ['ResidualBlock', 'check_residual_args']


def check_residual_args(name: str, inplanes: int, planes: int, stride: int, downsample: Optional[nn.Module],
                        expansion: int) -> None:
    """Raise ``ValueError`` for block arguments that cannot form a residual sum.

    Args:
        name (str): Block class name, for the message.
        inplanes, planes, stride: The block's arguments (positive ints).
        downsample (nn.Module, optional): The identity-path projection.
        expansion (int): The block's output/width ratio.
    """
    for arg, value in (('inplanes', inplanes), ('planes', planes), ('stride', stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name}: {arg} must be a positive int, got {value!r}')
    if downsample is None and (stride != 1 or inplanes != planes * expansion):
        raise ValueError(
            f'{name}(inplanes={inplanes}, planes={planes}, stride={stride}) changes the shape '
            f'(output has planes * expansion = {planes * expansion} channels), so it needs a `downsample` '
            'module on the identity path')


class ResidualBlock(nn.Module):
    """Base of the residual blocks: ``relu(_residual(x))`` where ``_residual`` adds the identity path.

    Subclasses set ``expansion`` and ``num_norms``, build ``conv1..`` and call :meth:`_add_norm` for ``norm1..``
    (registered under mmcv's names: ``bn1``, ``gn1`` ... by norm type, as mmpose and torchvision name them),
    then assign ``self.downsample`` last, so parameters are registered in mmpose's order.

    Note:
        N images, C_in = ``inplanes``, C_out = ``planes * expansion``, s = ``stride``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))
    """

    expansion: int = 1
    #: Norm layers on the residual path; the last one is zeroed by :meth:`zero_init_last`.
    num_norms: int = 2

    def __init__(self, *, inplanes: int, planes: int, stride: int, downsample: Optional[nn.Module],
                 norm_cfg: OptConfigType, with_cp: bool) -> None:
        super().__init__()
        check_residual_args(type(self).__name__, inplanes, planes, stride, downsample, self.expansion)
        self.norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        self.inplanes = inplanes
        self.planes = planes
        self.out_channels = planes * self.expansion
        self.stride = stride
        self.with_cp = with_cp
        self.relu = nn.ReLU(inplace=True)

    def _add_norm(self, index: int, channels: int) -> None:
        """Build ``norm{index}`` over ``channels`` with the block's norm config and register it."""
        name, norm = build_norm_layer(self.norm_cfg, channels, postfix=index)
        setattr(self, f'norm{index}_name', name)
        self.add_module(name, norm)

    def get_norm(self, index: int) -> nn.Module:
        """The norm layer after ``conv{index}`` (1-based)."""
        return getattr(self, getattr(self, f'norm{index}_name'))

    @property
    def norm1(self) -> nn.Module:
        """The norm layer after ``conv1``."""
        return self.get_norm(1)

    @property
    def norm2(self) -> nn.Module:
        """The norm layer after ``conv2``."""
        return self.get_norm(2)

    def zero_init_last(self) -> None:
        """Zero the last norm layer's affine parameters so the block starts as ``relu(identity)``.

        Goyal et al., "Accurate, Large Minibatch SGD", 2017, Sec. 5.1 (``zero_init_residual``).
        """
        constant_init(self.get_norm(self.num_norms), 0)

    def _residual(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _identity(self, x: Tensor) -> Tensor:
        return x if self.downsample is None else self.downsample(x)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block.

        Args:
            x (Tensor): (N, C_in, H, W).

        Returns:
            Tensor: (N, C_out, ceil(H / stride), ceil(W / stride)).
        """
        if self.with_cp and torch.is_grad_enabled():
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)
