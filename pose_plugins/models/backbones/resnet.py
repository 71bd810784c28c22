"""ResNet backbone (He et al., CVPR 2016) with mmpose's ``ResNet`` arguments; ``deep_stem`` / ``avg_down`` are
ResNet-C / -D ("Bag of Tricks", CVPR 2019).

Parameter names equal mmpose's and torchvision's, so both checkpoints load with ``strict=True``. Differences
from mmpose: ``strides`` / ``dilations`` default to their first ``num_stages`` entries; stages after the last of
``out_indices`` are built but not run (they get no gradient).
"""
import importlib.util
from collections.abc import Sequence
from typing import ClassVar, Optional

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor

from pose_plugins.models.layers.basic_block import BasicBlock
from pose_plugins.models.layers.bottleneck import Bottleneck
from pose_plugins.models.layers.named_norm import NamedNormMixin
from pose_plugins.models.layers.pose_backbone import PoseBackbone
from pose_plugins.models.layers.res_layer import ResBlockType, make_res_layer
from pose_plugins.models.layers.residual_block import STYLES
from pose_plugins.models.layers.validation import check_count, is_count
from pose_plugins.registry import MODELS

__all__ = ['ResNet']

MAX_STAGES = 4
DEFAULT_STRIDES = (1, 2, 2, 2)
DEFAULT_DILATIONS = (1, 1, 1, 1)


def _torchvision_models_available() -> bool:
    try:
        return importlib.util.find_spec('torchvision.models') is not None
    except (ImportError, ValueError):
        return False


@MODELS.register_module()
class ResNet(PoseBackbone):
    """ResNet: a stride-4 stem, then up to four residual stages; stage i has ``base_channels * 2**i`` wide blocks.

    Args:
        depth (int): 18, 34 (BasicBlock) or 50, 101, 152 (Bottleneck).
        in_channels, stem_channels, base_channels (int): Default: 3, 64, 64.
        expansion (int, optional): Block output / width ratio. Default: the block's (1 or 4).
        num_stages (int): 1 to 4. Default: 4.
        strides, dilations (Sequence[int], optional): Per stage. Default: ``(1, 2, 2, 2)``, ``(1, 1, 1, 1)``.
        out_indices (Sequence[int]): Stages returned, in stage order. Default: ``(3, )``.
        style (str): ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'`` (on the first 1x1). Default: ``'pytorch'``.
        deep_stem (bool): Three 3x3 convs instead of the 7x7 (ResNet-C). Default: False.
        avg_down (bool): Average-pool before projection convs (ResNet-D). Default: False.
        zero_init_residual (bool): As :class:`PoseBackbone`. Default: True, as mmpose.
        frozen_stages, conv_cfg, norm_cfg, norm_eval, with_cp, init_cfg: as :class:`PoseBackbone`.
    """

    #: depth -> (block, number of blocks per stage), He et al. 2016, Table 1.
    arch_settings: ClassVar[dict[int, tuple[ResBlockType, tuple[int, int, int, int]]]] = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    norm1 = NamedNormMixin.norm_property(1)

    def __init__(self,
                 *,
                 depth: int,
                 in_channels: int = 3,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 expansion: Optional[int] = None,
                 num_stages: int = MAX_STAGES,
                 strides: Optional[Sequence[int]] = None,
                 dilations: Optional[Sequence[int]] = None,
                 out_indices: Sequence[int] = (3, ),
                 style: str = 'pytorch',
                 deep_stem: bool = False,
                 avg_down: bool = False,
                 frozen_stages: int = -1,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(conv_cfg=conv_cfg, norm_cfg=norm_cfg, with_cp=with_cp, norm_eval=norm_eval,
                         frozen_stages=frozen_stages, zero_init_residual=zero_init_residual, init_cfg=init_cfg)
        if isinstance(depth, bool) or depth not in self.arch_settings:
            raise ValueError(f'depth must be one of {sorted(self.arch_settings)}, got {depth!r}')
        check_count('ResNet', in_channels=in_channels, stem_channels=stem_channels, base_channels=base_channels)
        self.block, stage_blocks = self.arch_settings[depth]
        self.expansion = self._check_expansion(self.block, expansion)
        if not is_count(num_stages) or num_stages > MAX_STAGES:
            raise ValueError(f'num_stages must be an int in [1, {MAX_STAGES}], got {num_stages!r}')
        self.strides = self._check_per_stage('strides', strides, DEFAULT_STRIDES, num_stages)
        self.dilations = self._check_per_stage('dilations', dilations, DEFAULT_DILATIONS, num_stages)
        self.out_indices = self._check_out_indices(out_indices, num_stages)
        if style not in STYLES:
            raise ValueError(f'style must be one of {STYLES}, got {style!r}')
        if deep_stem and stem_channels < 2:
            raise ValueError(f'deep_stem needs stem_channels >= 2 (its first convs are stem_channels // 2 wide), '
                             f'got {stem_channels}')
        self.deep_stem = bool(deep_stem)
        self._check_frozen_stages(num_stages)
        self.depth = depth
        self.num_stages = num_stages
        self.style = style
        self.avg_down = bool(avg_down)
        self.stem_channels = stem_channels
        self.base_channels = base_channels
        self.stage_blocks = stage_blocks[:num_stages]

        if self.deep_stem:
            widths = (stem_channels // 2, stem_channels // 2, stem_channels)
            self.stem = nn.Sequential(*(
                ConvModule(c_in, c_out, kernel_size=3, stride=2 if k == 0 else 1, padding=1, conv_cfg=conv_cfg,
                           norm_cfg=self.norm_cfg, inplace=True)
                for k, (c_in, c_out) in enumerate(zip((in_channels, ) + widths[:-1], widths))))
        else:
            self._add_stem(in_channels, (stem_channels, ), kernel_size=7)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        stage_channels = []
        channels = stem_channels
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2**i
            layer = make_res_layer(self.block, inplanes=channels, planes=planes, num_blocks=num_blocks,
                                   stride=self.strides[i], dilation=self.dilations[i], style=style,
                                   avg_down=self.avg_down, expansion=self.expansion, norm_cfg=self.norm_cfg,
                                   conv_cfg=conv_cfg, with_cp=with_cp)
            self.add_module(f'layer{i + 1}', layer)
            channels = planes * self.expansion
            stage_channels.append(channels)
        #: Output channels of every stage, and of the returned feature maps (``out_indices`` order).
        self.stage_channels: tuple[int, ...] = tuple(stage_channels)
        self.out_channels: tuple[int, ...] = tuple(stage_channels[i] for i in self.out_indices)

        self._freeze_stages()

    @staticmethod
    def _check_expansion(block: ResBlockType, expansion: Optional[int]) -> int:
        if expansion is None:
            return block.expansion
        if not is_count(expansion):
            raise ValueError(f'expansion must be a positive int or None, got {expansion!r}')
        if not block.variable_expansion and expansion != block.expansion:
            raise ValueError(f'expansion must be {block.expansion} (or None) for a {block.__name__} ResNet '
                             f'(depth 18 / 34), got {expansion!r}')
        return expansion

    @staticmethod
    def _check_per_stage(name: str, values: Optional[Sequence[int]], default: tuple[int, ...],
                         num_stages: int) -> tuple[int, ...]:
        if values is None:
            return default[:num_stages]
        if isinstance(values, (int, str)) or not isinstance(values, Sequence) or not all(map(is_count, values)):
            raise ValueError(f'{name} must be a sequence of positive ints, got {values!r}')
        if len(values) != num_stages:
            raise ValueError(f'{name} must have num_stages = {num_stages} entries, got {len(values)}: '
                             f'{tuple(values)!r}')
        return tuple(values)

    @staticmethod
    def _check_out_indices(out_indices: Sequence[int], num_stages: int) -> tuple[int, ...]:
        last = num_stages - 1
        if isinstance(out_indices, int) or not isinstance(out_indices, Sequence) or not out_indices:
            raise ValueError(f'out_indices must be a non-empty sequence of stage indices in [0, {last}], '
                             f'got {out_indices!r}')
        bad = [i for i in out_indices if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i <= last]
        if bad:
            raise ValueError(f'out_indices must hold stage indices in [0, {last}], got {bad[0]!r} in '
                             f'out_indices={tuple(out_indices)!r} (num_stages={num_stages})')
        if len(set(out_indices)) != len(out_indices):
            raise ValueError(f'out_indices has repeated stages: {tuple(out_indices)!r}')
        return tuple(sorted(out_indices))

    def _stage_modules(self, stage: int) -> list[nn.Module]:
        if stage == 0:
            return [self.stem] if self.deep_stem else super()._stage_modules(0)
        return [getattr(self, f'layer{stage}')]

    def init_weights(self) -> None:
        """Raises ``RuntimeError`` for a ``'torchvision://...'`` checkpoint without torchvision, else as the base."""
        for cfg in self._pretrained_init_cfgs():
            checkpoint = cfg.get('checkpoint')
            if isinstance(checkpoint, str) and checkpoint.startswith('torchvision://') \
                    and not _torchvision_models_available():
                raise RuntimeError(
                    f'init_cfg checkpoint {checkpoint!r} needs torchvision (not installed) and a download; save '
                    "torchvision's ImageNet weights (e.g. resnet50-0676ba61.pth) locally and use "
                    "init_cfg=dict(type='Pretrained', checkpoint='path/to/resnet50-0676ba61.pth')")
        super().init_weights()

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """Images (B, C_in, H, W) -> (B, C_i, H / S_i, W / S_i) for each i in ``out_indices`` (S_i the stage's
        stride, sizes rounded up).
        """
        x = self.maxpool(self.stem(x) if self.deep_stem else self._forward_stem(x))
        outs = []
        for i in range(self.out_indices[-1] + 1):  # later stages feed no output
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
