"""ResNet backbone (the SimpleBaseline / CPN feature extractor), with mmpose's ``ResNet`` arguments.

He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016 (Table 1: ResNet-18/34/50/101/152),
as used by Xiao, Wu, Wei, "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018 (Sec. 2: ResNet
+ three deconvolutions) and Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation", CVPR 2018
(GlobalNet on the outputs of all four stages). ``deep_stem`` and ``avg_down`` are ResNet-C / ResNet-D of He et al.,
"Bag of Tricks for Image Classification with Convolutional Neural Networks", CVPR 2019 (mmpose's ``ResNetV1d`` is
``deep_stem=True, avg_down=True``).

Takes every argument of mmpose 1.3.2's ``ResNet`` with its meaning (``num_stages``, ``strides``, ``dilations``,
``style``, ``deep_stem``, ``avg_down``, ``expansion`` ...), so an mmpose ResNet config works by changing
``type='ResNet'`` to ``type='pose_plugins.ResNet'``. Parameter names equal mmpose's (``conv1``, ``bn1``,
``layer1.0.conv1``, ``layer2.0.downsample.0`` / ``.1``; with ``deep_stem`` ``stem.{0,1,2}.conv`` / ``.bn``; with
``avg_down`` ``downsample.0`` is the pool, ``.1`` / ``.2`` conv and norm) and, for the default arguments,
torchvision's ``resnet*`` (no ``fc``), so mmpose checkpoints and torchvision's ImageNet weights load with
``strict=True`` and give the same features. Differences from mmpose's ``ResNet``, none of which changes an
output: arguments are keyword-only and validated (errors name the value); ``strides`` / ``dilations`` default to
the first ``num_stages`` entries of ``(1, 2, 2, 2)`` / ``(1, 1, 1, 1)`` (mmpose requires them spelled out when
``num_stages < 4``); stages after the last of ``out_indices`` are built (checkpoints load) but not run (mmpose
runs them and discards their output); activation checkpointing is non-reentrant (same values and gradients).
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
    """Whether a real ``torchvision.models`` can be imported (not pose_plugins' visualizer stand-in)."""
    try:
        return importlib.util.find_spec('torchvision.models') is not None
    except (ImportError, ValueError):
        return False


@MODELS.register_module()
class ResNet(PoseBackbone):
    """ResNet: a stride-4 stem, then up to four stages of residual blocks.

    Stem: 7x7 stride-2 conv (``stem_channels``) -> norm -> ReLU (``deep_stem``: three 3x3 conv-norm-ReLU,
    ``stem_channels // 2``, ``stem_channels // 2``, ``stem_channels`` wide, the first with stride 2) -> 3x3
    stride-2 max-pool. Stage ``i`` (``layer{i+1}``, i = 0..``num_stages - 1``) stacks ``arch_settings[depth]``
    blocks of width ``base_channels * 2**i``; its first block has ``strides[i]`` and a projection
    (``downsample``) where the shape changes; every block of the stage has ``dilations[i]``. ResNet-50 stage
    widths: 64/128/256/512, outputs 256/512/1024/2048 channels.

    Note:
        B images, C_in input channels, (H, W) input size, C_i = ``base_channels * 2**i * expansion`` output
        channels of stage i (expansion 1 for depth 18/34, 4 for 50/101/152 unless given), S_i = 4 * strides[0] *
        ... * strides[i] the stride of stage i, H_i = ceil(H / S_i), W_i = ceil(W / S_i) (each stride-2 layer
        rounds up).

    Shapes:
        x: (B, C_in, H, W)
        output: tuple with one (B, C_i, H_i, W_i) per i in ``out_indices``, in stage order.
        E.g. ``depth=50``, x (B, 3, 256, 192) -> ((B, 2048, 8, 6), ); ``out_indices=(0, 1, 2, 3)`` ->
        (B, 256, 64, 48), (B, 512, 32, 24), (B, 1024, 16, 12), (B, 2048, 8, 6).

    Args:
        depth (int): 18, 34 (BasicBlock) or 50, 101, 152 (Bottleneck).
        in_channels (int): Input image channels C_in. Default: 3.
        stem_channels (int): Output channels of the stem. Default: 64.
        base_channels (int): Width of the first stage's blocks (doubled per stage). Default: 64. Values other
            than 64 do not match torchvision's / mmpose's published weights (for small tests and demos).
        expansion (int, optional): Output / width ratio of the blocks; ``None``: the block's (1 or 4). A
            BasicBlock ResNet only takes 1. Default: None.
        num_stages (int): Number of stages, 1 to 4. Default: 4.
        strides (Sequence[int], optional): Stride of the first block of each stage, ``num_stages`` entries.
            Default: ``(1, 2, 2, 2)[:num_stages]``.
        dilations (Sequence[int], optional): Dilation of each stage's 3x3 convs, ``num_stages`` entries.
            Default: ``(1, 1, 1, 1)[:num_stages]``.
        out_indices (Sequence[int]): Stages (0..``num_stages - 1``, distinct) whose outputs are returned, in
            stage order. Default: ``(3, )``, the last stage (SimpleBaseline); CPN uses ``(0, 1, 2, 3)``. Stages
            after the last one listed are built (checkpoints load) but not run, so their parameters get no
            gradient: freeze them or use DDP's ``find_unused_parameters``.
        style (str): ``'pytorch'`` (stride on a Bottleneck's 3x3 conv, torchvision's "v1.5") or ``'caffe'``
            (stride on its first 1x1 conv, the original ResNet). Default: ``'pytorch'``.
        deep_stem (bool): Three 3x3 convs instead of the 7x7 one (ResNet-C; mmcv ``ConvModule`` s named
            ``stem.0`` .. ``stem.2``, as mmpose). Default: False.
        avg_down (bool): Downsample a projection with a 2x2 average pool then a stride-1 1x1 conv (ResNet-D).
            Default: False.
        frozen_stages (int): Stop gradients and set eval mode for the stem (>= 0) and stages
            1..``frozen_stages`` (``layer1`` ...). -1 freezes nothing. Default: -1.
        conv_cfg (dict, optional): mmcv conv config of every conv layer. Default: ``None`` (``nn.Conv2d``).
        norm_cfg (dict, optional): mmcv norm config of every norm layer (stem, blocks, projections). Default:
            ``dict(type='BN')``. Not modified.
        norm_eval (bool): Keep every BatchNorm (and SyncBN ...) in eval mode, i.e. frozen running stats,
            during training. Default: False.
        with_cp (bool): Activation checkpointing in every residual block. Default: False.
        zero_init_residual (bool): Zero the last norm of every residual block in :meth:`init_weights`, so each
            block starts as the identity (Goyal et al. 2017); skipped when ``init_cfg`` loads a pretrained
            checkpoint. Default: True, as mmpose.
        init_cfg (dict or list[dict], optional): mmengine init config. To start from ImageNet weights use
            ``dict(type='Pretrained', checkpoint=PATH)`` with a local copy of torchvision's weights
            (``resnet50-0676ba61.pth``, ``resnet101-63fe2227.pth`` ...): their ``fc.*`` keys are reported as
            unexpected and ignored. ``'torchvision://resnet50'`` needs torchvision and a download, neither of
            which exists on our machines. Default: Kaiming-normal (fan_out, ReLU) convs, constant 1 norms.

    Example:
        >>> import torch
        >>> from pose_plugins.models.backbones.resnet import ResNet
        >>> model = ResNet(depth=18, out_indices=(0, 1, 2, 3)).eval()
        >>> [tuple(f.shape) for f in model(torch.rand(1, 3, 64, 48))]
        [(1, 64, 16, 12), (1, 128, 8, 6), (1, 256, 4, 3), (1, 512, 2, 2)]
    """

    #: depth -> (block, number of blocks per stage), He et al. 2016, Table 1.
    arch_settings: ClassVar[dict[int, tuple[ResBlockType, tuple[int, int, int, int]]]] = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    #: The stem's norm layer (``bn1`` for BN; not with ``deep_stem``).
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

        # stem (1/2 resolution), then a 3x3 stride-2 max-pool: 1/4 resolution
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
        """The blocks' expansion: ``block.expansion`` unless given; a BasicBlock ResNet only takes 1."""
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
        """``num_stages`` positive ints (``strides`` / ``dilations``); ``None``: the first ``num_stages`` of
        ``default``."""
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
        """Distinct stage indices in [0, ``num_stages - 1``], returned sorted (outputs come in stage order)."""
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
        """``frozen_stages >= stage`` freezes ``layer{stage}``; stage 0 is the stem (``stem`` with
        ``deep_stem``, else ``conv1`` and its norm)."""
        if stage == 0:
            return [self.stem] if self.deep_stem else super()._stage_modules(0)
        return [getattr(self, f'layer{stage}')]

    def init_weights(self) -> None:
        """Refuse a ``'torchvision://...'`` checkpoint without torchvision, then :meth:`PoseBackbone.init_weights`
        (``init_cfg``, then ``zero_init_residual`` unless a checkpoint was loaded).

        Raises:
            RuntimeError: a ``'torchvision://...'`` checkpoint is asked for but torchvision is not installed
                (the message says how to use a local file instead).
        """
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
        """Extract features.

        Args:
            x (Tensor): Images (B, C_in, H, W).

        Returns:
            tuple[Tensor]: (B, C_i, H_i, W_i) for each i in ``out_indices``, in stage order.
        """
        x = self.maxpool(self.stem(x) if self.deep_stem else self._forward_stem(x))
        outs = []
        for i in range(self.out_indices[-1] + 1):  # later stages feed no output
            x = getattr(self, f'layer{i + 1}')(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
