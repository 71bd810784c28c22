"""HRNet's high-resolution module: parallel multi-resolution branches followed by multi-scale fusion.

Sun et al., "Deep High-Resolution Representation Learning for Human Pose Estimation", CVPR 2019, Sec. 3
("Parallel multi-resolution subnetworks", "Repeated multi-scale fusion", Fig. 3).

Parameter names equal mmpose's ``HRModule`` (``branches.{b}.{k}.conv1`` ..., ``fuse_layers.{i}.{j}.0`` /
``.1`` for the upsampling 1x1 conv / norm, ``fuse_layers.{i}.{j}.{k}.0`` / ``.1`` for the k-th stride-2 conv /
norm of a downsampling chain), so mmpose and original HRNet checkpoints load with ``strict=True``.

One intended difference from mmpose and the original code: the upsampling path resizes to the target branch's
actual size (``F.interpolate(size=...)``) instead of by a fixed ``scale_factor=2**(j-i)``. For inputs whose
sides are multiples of 2**(number of branches + 1) the two are identical; for other sizes mmpose fails with a
shape mismatch while this module still fuses (stride-2 convs round sizes up, so the sizes differ by at most one
pixel per halving).
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
    """Parallel residual branches, one per resolution, then every output branch sums all branches.

    Branch ``b`` runs at 1/2**b of the resolution of branch 0. Fusion into output branch ``i`` takes, from
    branch ``j``: itself if ``j == i``; if ``j > i`` (lower resolution) a 1x1 conv + norm then upsampling
    (``upsample_cfg['mode']``, nearest by default) to branch ``i``'s size; if ``j < i`` (higher resolution)
    ``i - j`` chained 3x3 stride-2 conv + norm with a ReLU between them and none after the last. The sum is
    passed through a ReLU. With a single branch there is no fusion.

    Note:
        N images, M = number of branches, C_b = ``num_channels[b] * block.expansion`` output channels of
        branch b, (H_b, W_b) = spatial size of branch b (H_b = ceil(H_{b-1} / 2)).

    Shapes:
        x: M tensors, x[b]: (N, in_channels[b], H_b, W_b)
        output: M tensors (N, C_b, H_b, W_b) if ``multiscale_output`` else one tensor (N, C_0, H_0, W_0)

    Args:
        block (type): :class:`BasicBlock` or :class:`Bottleneck`.
        num_blocks (Sequence[int]): Blocks per branch, length M.
        in_channels (Sequence[int]): Input channels per branch, length M. Not modified.
        num_channels (Sequence[int]): Block width per branch, length M.
        multiscale_output (bool): Fuse into every branch (True) or only into branch 0 (False). Default: True.
        norm_cfg (dict, optional): Norm config of every norm layer. Default: ``dict(type='BN')``.
        conv_cfg (dict, optional): Conv config of every conv layer. Default: ``None``.
        with_cp (bool): Activation checkpointing in every block. Default: False.
        upsample_cfg (dict, optional): ``mode`` (``'nearest'``, ``'nearest-exact'``, ``'bilinear'`` or
            ``'bicubic'``) and ``align_corners`` of the fusion upsampling, as mmpose's ``extra['upsample']``.
            Default: ``dict(mode='nearest', align_corners=None)``.
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
        """``fuse_layers[i][j]`` maps branch ``j`` to output branch ``i`` (None when ``i == j``)."""
        channels = self.out_channels
        num_out = self.num_branches if self.multiscale_output else 1

        def conv_norm(c_in: int, c_out: int, kernel_size: int, stride: int, relu: bool) -> ConvNormAct:
            return ConvNormAct(c_in, c_out, kernel_size=kernel_size, stride=stride, conv_cfg=conv_cfg,
                               norm_cfg=norm_cfg, relu=relu)

        rows = []
        for i in range(num_out):
            row: list[Optional[nn.Module]] = []
            for j in range(self.num_branches):
                if j > i:  # lower resolution: 1x1 conv + norm here, upsampling in forward
                    row.append(conv_norm(channels[j], channels[i], 1, 1, relu=False))
                elif j == i:
                    row.append(None)
                else:  # higher resolution: i - j halvings, the channel change in the last one
                    num_down = i - j
                    row.append(nn.Sequential(*(
                        conv_norm(channels[j], channels[i] if k == num_down - 1 else channels[j], 3, 2,
                                  relu=k < num_down - 1) for k in range(num_down))))
            rows.append(nn.ModuleList(row))
        return nn.ModuleList(rows)

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        """Run the branches and fuse them.

        Args:
            x (Sequence[Tensor]): M tensors, x[b]: (N, in_channels[b], H_b, W_b).

        Returns:
            list[Tensor]: (N, C_b, H_b, W_b) for every branch b if ``multiscale_output``, else only b = 0.
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
            for j, (layer, feat) in enumerate(zip(row, feats)):  # over branches, summed in order j = 0..M-1
                if j == i:
                    term = feat
                elif j > i:
                    term = F.interpolate(layer(feat), size=target_size, mode=self.upsample_mode,
                                         align_corners=self.align_corners)
                else:
                    term = layer(feat)
                if total is None:
                    total, owned = term, False  # may be a branch's own output: never written to
                elif owned:
                    total += term  # in place, as mmpose: the same sums in the same order, no new tensor
                else:
                    total, owned = total + term, True  # the first sum is a new tensor of ours
            # every row sums all (two or more) branches, so the sum is ours and ReLU runs in place (as mmpose's)
            fused.append(self.relu(total))
        return fused
