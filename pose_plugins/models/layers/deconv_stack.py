"""Stride-2 transposed convs + norm + ReLU, the upsampling of SimpleBaseline (Xiao et al., ECCV 2018)."""
from typing import Dict, Optional, Sequence, Tuple

from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

from .conv_norm_act import ConvNormAct

__all__ = ['DeconvStack', 'make_deconv_layers']

# kernel size -> (padding, output_padding) that make a stride-2 transposed conv exactly double H and W:
# H_out = (H - 1) * 2 - 2 * padding + kernel + output_padding = 2 * H.
_PADDINGS: Dict[int, Tuple[int, int]] = {4: (1, 0), 3: (1, 1), 2: (0, 0)}


class DeconvStack(nn.Sequential):
    """(B, C, H, W) -> (B, ``out_channels[-1]``, H * 2**n, W * 2**n), n = ``len(out_channels)``; indexed as
    mmpose's ``HeatmapHead.deconv_layers``.

    Args:
        in_channels (int): Input channels C.
        out_channels (Sequence[int]): Channels of each block (non-empty).
        kernel_sizes (Sequence[int]): 4, 3 or 2 per block.
        norm_cfg (dict, optional): Default: ``dict(type='BN')``.
    """

    def __init__(self,
                 *,
                 in_channels: int,
                 out_channels: Sequence[int],
                 kernel_sizes: Sequence[int],
                 norm_cfg: OptConfigType = None) -> None:
        out_channels = tuple(out_channels)
        kernel_sizes = tuple(kernel_sizes)
        if not out_channels:
            raise ValueError('DeconvStack needs at least one block, got out_channels=() '
                             '(a head without deconvs should use nn.Identity instead)')
        if len(out_channels) != len(kernel_sizes):
            raise ValueError('out_channels and kernel_sizes must have the same length, got '
                             f'out_channels={out_channels} and kernel_sizes={kernel_sizes}')
        for kernel_size in kernel_sizes:
            if kernel_size not in _PADDINGS:
                raise ValueError(f'Unsupported deconv kernel size {kernel_size!r} in kernel_sizes={kernel_sizes}; '
                                 f'expected one of {sorted(_PADDINGS)}')
        layers: list[nn.Module] = []
        channels = in_channels
        for width, kernel_size in zip(out_channels, kernel_sizes):
            padding, output_padding = _PADDINGS[kernel_size]
            layers.extend(
                ConvNormAct(channels, width, kernel_size=kernel_size, stride=2, padding=padding,
                            output_padding=output_padding, conv_cfg=dict(type='deconv'), norm_cfg=norm_cfg))
            channels = width
        super().__init__(*layers)

        self.in_channels = in_channels
        self.out_channels = out_channels[-1]
        self.kernel_sizes = kernel_sizes

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x)


def make_deconv_layers(*, in_channels: int, out_channels: Optional[Sequence[int]],
                       kernel_sizes: Optional[Sequence[int]]) -> Tuple[nn.Module, int]:
    """(module, output channels): a :class:`DeconvStack`, or ``nn.Identity`` without ``out_channels``."""
    if not out_channels:
        return nn.Identity(), in_channels
    if kernel_sizes is None or len(kernel_sizes) != len(out_channels):
        raise ValueError('deconv_out_channels and deconv_kernel_sizes must have the same length, got '
                         f'deconv_out_channels={out_channels} and deconv_kernel_sizes={kernel_sizes}')
    stack = DeconvStack(in_channels=in_channels, out_channels=out_channels, kernel_sizes=kernel_sizes)
    return stack, stack.out_channels
