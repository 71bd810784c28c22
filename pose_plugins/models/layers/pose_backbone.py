"""``PoseBackbone``: what ResNet, HRNet and the Stacked Hourglass share on top of mmpose's ``BaseBackbone``.

* :meth:`PoseBackbone.train` returns ``self``, as :meth:`torch.nn.Module.train` does (mmpose's
  ``BaseBackbone.train`` returns ``None``, which breaks ``model.eval()(x)``), and re-applies ``frozen_stages``
  and ``norm_eval`` (the mmpose / mmdet semantics: frozen parts and BatchNorm statistics stay in eval mode).
* A stem of stride-2 conv + norm + ReLU layers registered as ``conv1``, ``bn1``, ``conv2``, ``bn2`` ... on the
  backbone itself (:class:`~pose_plugins.models.layers.named_norm.NamedNormMixin`), so parameter names stay
  those of mmpose's and torchvision's ResNet / HRNet.
* ``zero_init_residual`` after ``init_cfg`` unless a checkpoint is loaded, and the default Kaiming-normal
  (fan_out) conv / constant-1 norm init of torchvision's and mmpose's ResNet.
"""
import copy
from collections.abc import Mapping, Sequence
from typing import Self

import torch.nn as nn
from mmpose.models.backbones.base_backbone import BaseBackbone
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .named_norm import NamedNormMixin
from .residual_block import ResidualBlock
from .validation import is_count

__all__ = ['PoseBackbone', 'is_count']


class PoseBackbone(NamedNormMixin, BaseBackbone):
    """mmpose ``BaseBackbone`` with ``train()`` returning ``self``, ``frozen_stages``, ``norm_eval``, a conv stem
    and ``zero_init_residual``.

    A subclass calls :meth:`_add_stem` (if it has a conv stem), lists the modules of its stage ``s`` in
    :meth:`_stage_modules` (if it supports ``frozen_stages``; stage 0 is the stem) and calls
    :meth:`_freeze_stages` at the end of ``__init__``. Not registered: a base class, not a model.

    Args:
        conv_cfg (dict, optional): mmcv conv config of every conv layer, kept as ``self.conv_cfg``. Default:
            ``None`` (``nn.Conv2d``).
        norm_cfg (dict, optional): mmcv norm config of every norm layer, deep-copied to ``self.norm_cfg``.
            Default: ``dict(type='BN')``.
        with_cp (bool): Activation checkpointing in every residual block, kept as ``self.with_cp``.
            Default: False.
        norm_eval (bool): Keep every BatchNorm (and SyncBN ...) in eval mode, i.e. frozen running stats,
            during training. Default: False.
        frozen_stages (int): Stop gradients and set eval mode for the stem (>= 0) and stages
            1..``frozen_stages``; -1 freezes nothing. The subclass checks the range
            (:meth:`_check_frozen_stages`). Default: -1.
        zero_init_residual (bool): Zero the last norm of every residual block (BasicBlock, Bottleneck ...) in
            :meth:`init_weights`, so each block starts as the identity (Goyal et al. 2017); skipped when
            ``init_cfg`` loads a pretrained checkpoint. Default: False.
        init_cfg (dict or list[dict], optional): mmengine init config. Default: Kaiming-normal (fan_out, ReLU)
            convs, constant 1 norms.
    """

    def __init__(self,
                 *,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 with_cp: bool = False,
                 norm_eval: bool = False,
                 frozen_stages: int = -1,
                 zero_init_residual: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer=['Conv2d'], mode='fan_out', nonlinearity='relu'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(init_cfg=init_cfg)
        self.conv_cfg = conv_cfg
        self.norm_cfg = dict(type='BN') if norm_cfg is None else copy.deepcopy(norm_cfg)
        self.with_cp = with_cp
        self.norm_eval = norm_eval
        self.frozen_stages = frozen_stages
        self.zero_init_residual = zero_init_residual
        self.num_stem_convs = 0

    def _check_frozen_stages(self, num_stages: int) -> None:
        """Raise ``ValueError`` unless ``frozen_stages`` is an int in [-1, ``num_stages``]."""
        frozen_stages = self.frozen_stages
        if isinstance(frozen_stages, bool) or not isinstance(frozen_stages, int) \
                or not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages must be an int in [-1, {num_stages}], got {frozen_stages!r}')

    def _add_stem(self,
                  in_channels: int,
                  channels: Sequence[int],
                  *,
                  kernel_size: int) -> None:
        """Register ``conv{i}`` (``kernel_size``, stride 2, "same" padding, no bias) and its norm (``bn{i}`` for
        BN; :meth:`_add_conv_norm`, the backbone's ``conv_cfg`` / ``norm_cfg``) for i = 1 .. ``len(channels)``,
        then ``relu``.

        Shapes (:meth:`_forward_stem`):
            (B, in_channels, H, W) -> (B, channels[-1], ceil(H / 2**n), ceil(W / 2**n)), n = ``len(channels)``.
        """
        for index, out_channels in enumerate(channels, start=1):
            self._add_conv_norm(index, in_channels, out_channels, kernel_size=kernel_size, stride=2,
                                conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)
            in_channels = out_channels
        self.num_stem_convs = len(channels)
        self.relu = nn.ReLU(inplace=True)

    def _forward_stem(self, x: Tensor) -> Tensor:
        """``relu(norm{i}(conv{i}(x)))`` for each stem conv, in order."""
        for index in range(1, self.num_stem_convs + 1):
            x = self.relu(self.get_norm(index)(getattr(self, f'conv{index}')(x)))
        return x

    def _stage_modules(self, stage: int) -> list[nn.Module]:
        """The modules that ``frozen_stages >= stage`` freezes; stage 0 is the stem (by default the
        :meth:`_add_stem` convs and norms), later stages (1-based) are the subclass's."""
        if stage == 0:
            return [module for index in range(1, self.num_stem_convs + 1)
                    for module in (getattr(self, f'conv{index}'), self.get_norm(index))]
        raise NotImplementedError(f'{type(self).__name__} does not support frozen_stages')

    def _freeze_stages(self) -> None:
        """Stop gradients and set eval mode for the stem and stages 1..``frozen_stages``."""
        for stage in range(0, self.frozen_stages + 1):
            for module in self._stage_modules(stage):
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False

    def _pretrained_init_cfgs(self) -> list[Mapping]:
        """The ``dict(type='Pretrained', ...)`` entries of ``init_cfg``."""
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        return [cfg for cfg in cfgs if isinstance(cfg, Mapping) and cfg.get('type') == 'Pretrained']

    def init_weights(self) -> None:
        """Apply ``init_cfg`` (mmengine), then ``zero_init_residual`` unless a checkpoint was loaded."""
        super().init_weights()
        if self.zero_init_residual and not self._pretrained_init_cfgs():
            for module in self.modules():
                if isinstance(module, ResidualBlock):
                    module.zero_init_last()

    def train(self, mode: bool = True) -> Self:
        """Set train/eval mode, re-apply ``frozen_stages`` and ``norm_eval``, and return ``self``."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
