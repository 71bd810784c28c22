"""HRNet's high-resolution module (Sun et al., CVPR 2019, Sec. 3): parallel branches, then multi-scale fusion.

Parameter names equal mmpose's ``HRModule``. Unlike mmpose, upsampling resizes to the target branch's size rather
than by ``2**(j - i)``, so any input size fuses (identical results where mmpose works).
"""
from collections.abc import Sequence
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmpose.utils.typing import OptConfigType
from torch import Tensor

from .conv_norm_act import ConvNormAct
from .res_layer import ResBlockType, make_res_layer

__all__ = ['HRModule']

_UPSAMPLE_MODES = ('nearest', 'nearest-exact', 'bilinear', 'bicubic')


class HRModule(nn.Module):
    """Parallel residual branches; output branch i sums every branch j, through a 1x1 conv + norm + upsampling
    (j > i) or ``i - j`` stride-2 3x3 conv + norm (j < i), then a ReLU.

    Args:
        block (type): :class:`BasicBlock` or :class:`Bottleneck`.
        num_blocks, in_channels, num_channels (Sequence[int]): Per branch.
        multiscale_output (bool): Fuse into every branch, else only branch 0. Default: True.
        norm_cfg, conv_cfg (dict, optional), with_cp (bool): As :class:`ResidualBlock`.
        upsample_cfg (dict, optional): ``mode`` and ``align_corners`` of the upsampling. Default: nearest.
    """

    def __init__(self,
                 *,
                 block: ResBlockType,
                 num_blocks: Sequence[int],
                 in_channels: Sequence[int],
                 num_channels: Sequence[int],
                 multiscale_output: bool = True,
                 norm_cfg: OptConfigType = None,
                 conv_cfg: OptConfigType = None,
                 with_cp: bool = False,
                 upsample_cfg: OptConfigType = None) -> None:
        super().__init__()
        num_branches = len(num_channels)
        if num_branches < 1:
            raise ValueError('HRModule needs at least one branch, got num_channels=()')
        for name, values in (('num_blocks', num_blocks), ('in_channels', in_channels)):
            if len(values) != num_branches:
                raise ValueError(f'HRModule: {name} has {len(values)} entries {tuple(values)} but num_channels '
                                 f'{tuple(num_channels)} gives {num_branches} branches')
        self.upsample_mode, self.align_corners = self._check_upsample_cfg(upsample_cfg)
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        self.num_branches = num_branches
        self.multiscale_output = multiscale_output
        self.in_channels = tuple(in_channels)
        #: Output channels of every branch (also when only branch 0 is returned).
        self.out_channels = tuple(c * block.expansion for c in num_channels)

        self.branches = nn.ModuleList(
            make_res_layer(block, inplanes=c_in, planes=width, num_blocks=n, norm_cfg=norm_cfg,
                           conv_cfg=conv_cfg, with_cp=with_cp)
            for c_in, width, n in zip(in_channels, num_channels, num_blocks))
        self.fuse_layers = self._make_fuse_layers(norm_cfg, conv_cfg) if num_branches > 1 else None
        self.relu = nn.ReLU(inplace=True)

    @staticmethod
    def _check_upsample_cfg(upsample_cfg: OptConfigType) -> tuple[str, Optional[bool]]:
        cfg = dict(mode='nearest', align_corners=None)
        if upsample_cfg is not None:
            unknown = set(upsample_cfg) - set(cfg)
            if unknown:
                raise ValueError(f'upsample_cfg has unknown keys {sorted(unknown)}; allowed: {sorted(cfg)}')
            cfg.update(upsample_cfg)
        if cfg['mode'] not in _UPSAMPLE_MODES:
            raise ValueError(f"upsample_cfg['mode'] must be one of {_UPSAMPLE_MODES}, got {cfg['mode']!r}")
        if cfg['align_corners'] is not None and cfg['mode'] in ('nearest', 'nearest-exact'):
            raise ValueError(f"upsample_cfg['align_corners'] must be None for mode {cfg['mode']!r}, "
                             f"got {cfg['align_corners']!r}")
        return cfg['mode'], cfg['align_corners']

    def _make_fuse_layers(self, norm_cfg: dict, conv_cfg: OptConfigType) -> nn.ModuleList:
        channels = self.out_channels
        num_out = self.num_branches if self.multiscale_output else 1

        def conv_norm(c_in: int, c_out: int, kernel_size: int, stride: int, relu: bool) -> ConvNormAct:
            return ConvNormAct(c_in, c_out, kernel_size=kernel_size, stride=stride, conv_cfg=conv_cfg,
                               norm_cfg=norm_cfg, relu=relu)

        rows = []
        for i in range(num_out):
            row: list[Optional[nn.Module]] = []
            for j in range(self.num_branches):
                if j > i:  # upsampled in forward
                    row.append(conv_norm(channels[j], channels[i], 1, 1, relu=False))
                elif j == i:
                    row.append(None)
                else:
                    num_down = i - j
                    row.append(nn.Sequential(*(
                        conv_norm(channels[j], channels[i] if k == num_down - 1 else channels[j], 3, 2,
                                  relu=k < num_down - 1) for k in range(num_down))))
            rows.append(nn.ModuleList(row))
        return nn.ModuleList(rows)

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        """Branch inputs (N, in_channels[b], H_b, W_b) -> (N, out_channels[b], H_b, W_b) for every branch, or
        branch 0 only without ``multiscale_output``.
        """
        if len(x) != self.num_branches:
            raise ValueError(f'HRModule with {self.num_branches} branches got {len(x)} inputs')
        feats = [branch(feat) for branch, feat in zip(self.branches, x)]
        if self.fuse_layers is None:
            return feats
        fused = []
        for i, row in enumerate(self.fuse_layers):
            target_size = feats[i].shape[-2:]
            total: Optional[Tensor] = None
            for j, (layer, feat) in enumerate(zip(row, feats)):
                if j == i:
                    term = feat
                elif j > i:
                    term = F.interpolate(layer(feat), size=target_size, mode=self.upsample_mode,
                                         align_corners=self.align_corners)
                else:
                    term = layer(feat)
                if total is None:
                    total, owned = term, False  # a branch's own output: never written to
                elif owned:
                    total += term  # in place, as mmpose
                else:
                    total, owned = total + term, True
            fused.append(self.relu(total))
        return fused
