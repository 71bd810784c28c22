"""HRNet backbone (Sun et al., "Deep High-Resolution Representation Learning for Human Pose Estimation", CVPR 2019).

Parameter names and the ``extra`` table equal mmpose's ``HRNet``, so its checkpoints load with ``strict=True``.
Differences from mmpose: a transition that widens an existing branch reads that branch (mmpose: the lowest one);
fusion resizes to the target's size, so any input size works; default init is Kaiming (mmpose: Normal(0.001)).
"""
import copy
import re
from collections.abc import Mapping
from typing import ClassVar, Optional

import torch.nn as nn
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor

from pose_plugins.models.layers.basic_block import BasicBlock
from pose_plugins.models.layers.bottleneck import Bottleneck
from pose_plugins.models.layers.conv_norm_act import ConvNormAct
from pose_plugins.models.layers.hr_module import HRModule
from pose_plugins.models.layers.named_norm import NamedNormMixin
from pose_plugins.models.layers.pose_backbone import PoseBackbone
from pose_plugins.models.layers.res_layer import ResBlockType, make_res_layer
from pose_plugins.models.layers.validation import is_count
from pose_plugins.registry import MODELS

__all__ = ['HRNet']

_REQUIRED_STAGE_KEYS = ('num_modules', 'num_branches', 'block', 'num_blocks', 'num_channels')


def _hrnet_table(width: int) -> dict:
    """Stage table of HRNet-W``width`` (paper Sec. 4.1)."""
    table = dict(stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ),
                             num_channels=(64, )))
    for stage, num_modules in ((2, 1), (3, 4), (4, 3)):
        table[f'stage{stage}'] = dict(num_modules=num_modules, num_branches=stage, block='BASIC',
                                      num_blocks=(4, ) * stage,
                                      num_channels=tuple(width * 2**b for b in range(stage)))
    return table


@MODELS.register_module()
class HRNet(PoseBackbone):
    """High-Resolution Network: a stride-4 stem, then stages of parallel multi-resolution branches.

    Args:
        arch (str, optional): ``'w32'`` or ``'w48'``. Default: ``'w32'`` unless ``extra`` is given (not both).
        extra (dict, optional): mmpose's stage table ``stage1`` ... ``stageS`` (S >= 2), optional ``upsample``.
        in_channels (int): Image channels. Default: 3.
        multiscale_output (bool, optional): Return every branch of the last stage. Default: the table's, else False.
        conv_cfg, norm_cfg, norm_eval, with_cp, zero_init_residual, frozen_stages, init_cfg: as :class:`PoseBackbone`.

    Raises:
        ValueError, TypeError: an invalid argument or stage table (the message names the stage and field).
    """

    stem_channels: ClassVar[int] = 64
    blocks_dict: ClassVar[dict[str, ResBlockType]] = {'BASIC': BasicBlock, 'BOTTLENECK': Bottleneck}
    arch_settings: ClassVar[dict[str, dict]] = {'w32': _hrnet_table(32), 'w48': _hrnet_table(48)}

    norm1 = NamedNormMixin.norm_property(1)
    norm2 = NamedNormMixin.norm_property(2)

    def __init__(self,
                 *,
                 arch: Optional[str] = None,
                 extra: OptConfigType = None,
                 in_channels: int = 3,
                 multiscale_output: Optional[bool] = None,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = False,
                 frozen_stages: int = -1,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(conv_cfg=conv_cfg, norm_cfg=norm_cfg, with_cp=with_cp, norm_eval=norm_eval,
                         frozen_stages=frozen_stages, zero_init_residual=zero_init_residual, init_cfg=init_cfg)
        if not is_count(in_channels):
            raise ValueError(f'in_channels must be a positive int, got {in_channels!r}')
        stages, upsample_cfg = self._parse_table(arch, extra)
        num_stages = len(stages)
        if multiscale_output is None:
            multiscale_output = stages[-1].get('multiscale_output', False)
        elif 'multiscale_output' in stages[-1] and stages[-1]['multiscale_output'] != multiscale_output:
            raise ValueError(f'multiscale_output={multiscale_output} contradicts '
                             f"extra['stage{num_stages}']['multiscale_output']={stages[-1]['multiscale_output']}")
        self._check_frozen_stages(num_stages)
        norm_cfg = self.norm_cfg
        self.num_stages = num_stages
        self.multiscale_output = bool(multiscale_output)
        self.stage_cfgs = stages

        c_stem = self.stem_channels
        self._add_stem(in_channels, (c_stem, c_stem), kernel_size=3)

        block = self.blocks_dict[stages[0]['block']]
        self.layer1 = make_res_layer(block, inplanes=c_stem, planes=stages[0]['num_channels'][0],
                                     num_blocks=stages[0]['num_blocks'][0], norm_cfg=norm_cfg,
                                     conv_cfg=conv_cfg, with_cp=with_cp)
        channels = (stages[0]['num_channels'][0] * block.expansion, )

        # stages 2..S: transition{s-1} then stage{s}, from the table
        for s, cfg in enumerate(stages[1:], start=2):
            block = self.blocks_dict[cfg['block']]
            stage_in = tuple(c * block.expansion for c in cfg['num_channels'])
            self.add_module(f'transition{s - 1}', self._make_transition(channels, stage_in))
            modules = []
            for m in range(cfg['num_modules']):
                last = s == num_stages and m == cfg['num_modules'] - 1
                modules.append(
                    HRModule(block=block, num_blocks=cfg['num_blocks'], in_channels=stage_in,
                             num_channels=cfg['num_channels'], multiscale_output=multiscale_output or not last,
                             norm_cfg=norm_cfg, conv_cfg=conv_cfg, with_cp=with_cp, upsample_cfg=upsample_cfg))
                stage_in = modules[-1].out_channels
            self.add_module(f'stage{s}', nn.Sequential(*modules))
            channels = stage_in
        #: Channels of the returned feature maps, highest resolution first.
        self.out_channels: tuple[int, ...] = channels if self.multiscale_output else channels[:1]

        self._freeze_stages()

    @classmethod
    def _parse_table(cls, arch: Optional[str], extra: OptConfigType) -> tuple[list[dict], Optional[dict]]:
        """Validate the stage table; return copies of its stages and ``upsample``."""
        if arch is not None and extra is not None:
            raise ValueError(f'give either arch ({arch!r}) or extra (a custom stage table), not both')
        if extra is None:
            arch = 'w32' if arch is None else arch
            if arch not in cls.arch_settings:
                raise ValueError(f'arch must be one of {sorted(cls.arch_settings)}, got {arch!r}')
            extra = cls.arch_settings[arch]
        if not isinstance(extra, Mapping):
            raise TypeError(f'extra must be a dict of stage configs, got {type(extra).__name__}')
        stage_ids = sorted(int(m.group(1)) for key in extra if (m := re.fullmatch(r'stage(\d+)', str(key))))
        unknown = sorted(str(key) for key in extra if key != 'upsample' and not re.fullmatch(r'stage\d+', str(key)))
        if unknown:
            raise ValueError(f'extra has unknown keys {unknown}; allowed: stage1, stage2, ..., upsample')
        if len(stage_ids) < 2 or stage_ids != list(range(1, len(stage_ids) + 1)):
            raise ValueError(f'extra must have consecutive stages stage1, stage2, ... (at least 2), got '
                             f"{['stage%d' % i for i in stage_ids]}")
        stages = []
        for s in stage_ids:
            name = f'stage{s}'
            cfg = extra[name]
            where = f"extra['{name}']"
            if not isinstance(cfg, Mapping):
                raise TypeError(f'{where} must be a dict, got {type(cfg).__name__}')
            allowed = _REQUIRED_STAGE_KEYS + (('multiscale_output', ) if s == stage_ids[-1] else ())
            missing = [k for k in _REQUIRED_STAGE_KEYS if k not in cfg]
            if missing:
                raise ValueError(f'{where} misses {missing}')
            unknown = sorted(str(k) for k in cfg if k not in allowed)
            if unknown:
                raise ValueError(f'{where} has unknown keys {unknown}; allowed: {list(allowed)} (multiscale_output '
                                 'only on the last stage)')
            for key in ('num_modules', 'num_branches'):
                if not is_count(cfg[key]):
                    raise ValueError(f"{where}['{key}'] must be a positive int, got {cfg[key]!r}")
            num_branches = cfg['num_branches']
            if cfg['block'] not in cls.blocks_dict:
                raise ValueError(f"{where}['block'] must be one of {sorted(cls.blocks_dict)}, got {cfg['block']!r}")
            for key in ('num_blocks', 'num_channels'):
                values = cfg[key]
                if not isinstance(values, (list, tuple)) or not all(is_count(v) for v in values):
                    raise ValueError(f"{where}['{key}'] must be a list/tuple of positive ints, got {values!r}")
                if len(values) != num_branches:
                    raise ValueError(f"{where}['{key}'] has {len(values)} entries {tuple(values)} but "
                                     f"{where}['num_branches'] is {num_branches}")
            if 'multiscale_output' in cfg and not isinstance(cfg['multiscale_output'], bool):
                raise ValueError(f"{where}['multiscale_output'] must be a bool, got {cfg['multiscale_output']!r}")
            if s == 1 and (num_branches != 1 or cfg['num_modules'] != 1):
                raise ValueError(f"{where} must have num_branches=1 and num_modules=1 (stage 1 is a single "
                                 f"residual layer), got {num_branches} and {cfg['num_modules']}")
            if stages and num_branches < stages[-1]['num_branches']:
                raise ValueError(f"{where}['num_branches'] is {num_branches}, fewer than the "
                                 f"{stages[-1]['num_branches']} branches of stage{s - 1}")
            stages.append({**copy.deepcopy(dict(cfg)), 'num_blocks': tuple(cfg['num_blocks']),
                           'num_channels': tuple(cfg['num_channels'])})
        upsample_cfg = copy.deepcopy(dict(extra['upsample'])) if extra.get('upsample') is not None else None
        return stages, upsample_cfg

    def _make_transition(self, pre_channels: tuple[int, ...], cur_channels: tuple[int, ...]) -> nn.ModuleList:
        """Per branch: identity (None), a width-changing 3x3 conv, or stride-2 convs for a new branch."""

        def conv_norm_relu(c_in: int, c_out: int, stride: int) -> ConvNormAct:
            return ConvNormAct(c_in, c_out, kernel_size=3, stride=stride, conv_cfg=self.conv_cfg,
                               norm_cfg=self.norm_cfg)

        num_pre = len(pre_channels)
        layers: list[Optional[nn.Module]] = []
        for b, c_out in enumerate(cur_channels):
            if b < num_pre:
                layers.append(conv_norm_relu(pre_channels[b], c_out, 1) if c_out != pre_channels[b] else None)
            else:
                num_down = b - num_pre + 1
                c_last = pre_channels[-1]
                layers.append(nn.Sequential(*(
                    conv_norm_relu(c_last, c_out if k == num_down - 1 else c_last, 2) for k in range(num_down))))
        return nn.ModuleList(layers)

    def _stage_modules(self, stage: int) -> list[nn.Module]:
        """Stage 0 is the stem; stage s includes the transition after it."""
        if stage == 0:
            return super()._stage_modules(0)
        modules = [self.layer1 if stage == 1 else getattr(self, f'stage{stage}')]
        if stage < self.num_stages:
            modules.append(getattr(self, f'transition{stage}'))
        return modules

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """Images (B, C_in, H, W) -> (B, C_0, H / 4, W / 4), or with ``multiscale_output`` every branch
        (B, C_b, H / 2**(b + 2), W / 2**(b + 2)), sizes rounded up.
        """
        feats = [self.layer1(self._forward_stem(x))]
        for s in range(2, self.num_stages + 1):
            inputs = []
            for b, layer in enumerate(getattr(self, f'transition{s - 1}')):
                source = feats[b] if b < len(feats) else feats[-1]  # new branches grow from the lowest resolution
                inputs.append(source if layer is None else layer(source))
            feats = getattr(self, f'stage{s}')(inputs)
        return tuple(feats)
