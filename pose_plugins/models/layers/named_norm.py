"""``NamedNormMixin``: norm layers registered under mmcv's names (``bn1``, ``gn2`` ...) with ``norm{i}`` access.

mmpose, mmdet and torchvision name the norm after ``conv{i}`` by its type (mmcv's ``build_norm_layer``:
``bn{i}`` for BN / SyncBN, ``gn{i}`` for GN, ``in{i}`` ...), keep that name in ``norm{i}_name`` and read the
layer through a ``norm{i}`` property. Their checkpoints load with ``strict=True`` only if ours do the same, so
every pose_plugins module that names its norms this way (the residual blocks, the Hourglass residual, the
backbone stems) uses this mixin, and nothing else writes ``norm{i}_name``.
"""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmpose.utils.typing import OptConfigType

from .conv_norm_act import ConvNormAct

__all__ = ['NamedNormMixin']


class NamedNormMixin:
    """Adds :meth:`_add_norm`, :meth:`_add_conv_norm`, :meth:`get_norm` and :meth:`norm_property` to an
    ``nn.Module`` subclass (list it before ``nn.Module`` in the bases; it has no ``__init__``).

    Example:
        >>> class Block(NamedNormMixin, nn.Module):
        ...     norm1 = NamedNormMixin.norm_property(1)
        ...     def __init__(self):
        ...         super().__init__()
        ...         self._add_conv_norm(1, 3, 8, kernel_size=3, conv_cfg=None, norm_cfg=None)
        >>> [name for name, _ in Block().named_children()], type(Block().norm1).__name__
        (['conv1', 'bn1'], 'BatchNorm2d')
    """

    def _add_norm(self, index: int, channels: int, norm_cfg: OptConfigType) -> None:
        """Build a norm over ``channels`` (``norm_cfg``, default BN), register it as mmcv names it with postfix
        ``index`` (``bn{index}`` ...) and remember that name in ``norm{index}_name``."""
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        name, norm = build_norm_layer(norm_cfg, channels, postfix=index)
        setattr(self, f'norm{index}_name', name)
        self.add_module(name, norm)

    def _add_conv_norm(self,
                       index: int,
                       in_channels: int,
                       out_channels: int,
                       *,
                       kernel_size: int,
                       stride: int = 1,
                       dilation: int = 1,
                       padding: Optional[int] = None,
                       conv_cfg: OptConfigType,
                       norm_cfg: OptConfigType) -> None:
        """Register ``conv{index}`` (bias-free, :meth:`ConvNormAct.build_conv`) then its norm (:meth:`_add_norm`),
        in that order, as mmpose registers them (so ``state_dict`` keys come in the same order)."""
        self.add_module(
            f'conv{index}',
            ConvNormAct.build_conv(conv_cfg, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                                   padding=padding, dilation=dilation))
        self._add_norm(index, out_channels, norm_cfg)

    def get_norm(self, index: int) -> nn.Module:
        """The norm layer registered by ``_add_norm(index, ...)``."""
        return getattr(self, getattr(self, f'norm{index}_name'))

    @staticmethod
    def norm_property(index: int) -> property:
        """A ``norm{index}`` property for a class body: ``norm1 = NamedNormMixin.norm_property(1)``."""

        def getter(self: 'NamedNormMixin') -> nn.Module:
            return self.get_norm(index)

        return property(getter, doc=f'The norm layer ``norm{index}`` (``bn{index}`` for BN, ``gn{index}`` for GN).')
