"""A stack of stride-2 transposed convolutions, each followed by a norm layer and ReLU.

Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018
(https://arxiv.org/abs/1804.06208): three ``ConvTranspose2d(k=4, s=2)`` + BN + ReLU layers of 256 channels turn
the stride-32 ResNet feature map into stride-4 heatmap features. The 3DMPPE PoseNet head (Moon et al., ICCV 2019)
uses the same stack. Written once here; every head that upsamples this way uses it.
"""
from typing import Dict, Optional, Sequence, Tuple

from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

from .conv_norm_act import ConvNormAct

__all__ = ['DeconvStack', 'make_deconv_layers']

# kernel size -> (padding, output_padding) that make a stride-2 transposed conv exactly double H and W:
# H_out = (H - 1) * 2 - 2 * padding + kernel + output_padding = 2 * H.
_PADDINGS: Dict[int, Tuple[int, int]] = {4: (1, 0), 3: (1, 1), 2: (0, 0)}


class DeconvStack(nn.Sequential):
    """``len(out_channels)`` blocks of ``ConvTranspose2d(stride=2, bias=False)`` -> norm -> ``ReLU``.

    Each block doubles the spatial size. The module is a flat :class:`torch.nn.Sequential` whose children are
    numbered ``3 * i`` (deconv), ``3 * i + 1`` (norm), ``3 * i + 2`` (ReLU) for block ``i``, which is the indexing
    of mmpose's ``HeatmapHead.deconv_layers``, so a head that stores a ``DeconvStack`` under the attribute name
    ``deconv_layers`` loads mmpose (and original SimpleBaseline / HRNet repo) checkpoints with ``strict=True``.

    Note:
        - B: batch size
        - C: ``in_channels``
        - C': ``out_channels[-1]``
        - n: number of blocks, ``len(out_channels)``

    Args:
        in_channels (int): Channels C of the input feature map.
        out_channels (Sequence[int]): Output channels of each block; must be non-empty.
        kernel_sizes (Sequence[int]): Kernel size of each block's transposed conv, same length as
            ``out_channels``. Each is 4 (padding 1, output_padding 0), 3 (padding 1, output_padding 1) or
            2 (padding 0, output_padding 0), the three sizes for which stride 2 gives exactly twice the input size.
        norm_cfg (dict, optional): mmcv norm layer config. ``None`` means ``dict(type='BN')``
            (:class:`torch.nn.BatchNorm2d`, as mmpose and the original code).

    Shapes:
        - input: (B, C, H, W)
        - output: (B, C', H * 2**n, W * 2**n)
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
        """Upsample ``x`` (B, C, H, W) to (B, C', H * 2**n, W * 2**n)."""
        return super().forward(x)


def make_deconv_layers(*, in_channels: int, out_channels: Optional[Sequence[int]],
                       kernel_sizes: Optional[Sequence[int]]) -> Tuple[nn.Module, int]:
    """A head's optional upsampling: a :class:`DeconvStack`, or ``nn.Identity`` when ``out_channels`` is empty.

    Args:
        in_channels (int): Channels of the head's input feature map.
        out_channels (Sequence[int], optional): Output channels of each deconv block; ``None`` or empty: none.
        kernel_sizes (Sequence[int], optional): Kernel size of each block, same length as ``out_channels``.

    Returns:
        tuple: the module (stored as a head's ``deconv_layers``) and its output channels.
    """
    if not out_channels:
        return nn.Identity(), in_channels
    if kernel_sizes is None or len(kernel_sizes) != len(out_channels):
        raise ValueError('deconv_out_channels and deconv_kernel_sizes must have the same length, got '
                         f'deconv_out_channels={out_channels} and deconv_kernel_sizes={kernel_sizes}')
    stack = DeconvStack(in_channels=in_channels, out_channels=out_channels, kernel_sizes=kernel_sizes)
    return stack, stack.out_channels
