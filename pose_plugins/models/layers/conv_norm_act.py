"""``ConvNormAct``: conv -> norm (-> ReLU) as a Sequential whose children are numbered ``0``, ``1`` (, ``2``).

The one conv-norm-act building block of pose_plugins where mmpose's (and the original HRNet / SimpleBaseline
code's) parameter names are Sequential indices: HRNet's transitions (``transition1.1.0.0``) and fuse layers
(``fuse_layers.1.0.0.1``), the residual projection (``downsample.0`` / ``.1``), the deconv stack of the heatmap
heads (``deconv_layers.0`` / ``.1``, flattened into the stack). Where the names are free, or mmpose itself uses
mmcv's ``ConvModule`` (``conv`` / ``bn`` / ``activate``: CPN's GlobalNet, ResNet's ``deep_stem``), use
``ConvModule``; where a module names its convs and norms ``conv1`` / ``bn1`` (residual blocks, backbone stems),
use :class:`~pose_plugins.models.layers.named_norm.NamedNormMixin`, which builds its convs with
:meth:`ConvNormAct.build_conv` too.

A conv followed by a norm has no bias (the norm's shift makes it redundant), as in torchvision, mmpose and the
original code.
"""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmpose.utils.typing import OptConfigType

__all__ = ['ConvNormAct']


class ConvNormAct(nn.Sequential):
    """``ReLU(norm(conv(x)))`` (the ReLU only with ``relu=True``), children ``0`` (conv), ``1`` (norm), ``2`` (ReLU).

    Note:
        N images, C_in = ``in_channels``, C_out = ``out_channels``, k = ``kernel_size``, s = ``stride``,
        p = ``padding``, d = ``dilation``.

    Shapes:
        x: (N, C_in, H, W) -> (N, C_out, H', W'), H' = floor((H + 2p - d (k - 1) - 1) / s) + 1 for a conv,
        (H - 1) s - 2p + d (k - 1) + output_padding + 1 for a transposed conv (``conv_cfg=dict(type='deconv')``);
        with the default padding and odd k a conv gives H' = ceil(H / s).

    Args:
        in_channels (int): Input channels C_in.
        out_channels (int): Output channels C_out of the conv, width of the norm.
        kernel_size (int): Conv kernel size k.
        stride (int): Conv stride. Default: 1.
        padding (int, optional): Conv padding. Default: ``dilation * (kernel_size // 2)`` ("same" for odd k).
        dilation (int): Conv dilation. Default: 1.
        output_padding (int, optional): Only for transposed convs. Default: ``None`` (not passed).
        conv_cfg (dict, optional): mmcv conv config (``dict(type='deconv')`` for a transposed conv).
            Default: ``None`` (``nn.Conv2d``).
        norm_cfg (dict, optional): mmcv norm config. Default: ``dict(type='BN')``. Not modified.
        relu (bool): Append ``nn.ReLU(inplace=True)``. Default: True.
        bias (bool): Give the conv a bias (mmpose's ``HeatmapHead`` conv layers have one). Default: False.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 *,
                 kernel_size: int,
                 stride: int = 1,
                 padding: Optional[int] = None,
                 dilation: int = 1,
                 output_padding: Optional[int] = None,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: OptConfigType = None,
                 relu: bool = True,
                 bias: bool = False) -> None:
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        conv = self.build_conv(conv_cfg, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                               padding=padding, dilation=dilation, output_padding=output_padding, bias=bias)
        layers = [conv, build_norm_layer(norm_cfg, out_channels)[1]]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)

    @staticmethod
    def build_conv(conv_cfg: OptConfigType, in_channels: int, out_channels: int, *, kernel_size: int, stride: int = 1,
                   padding: Optional[int] = None, dilation: int = 1, output_padding: Optional[int] = None,
                   bias: bool = False) -> nn.Module:
        """The conv of every conv-norm pair: mmcv's ``build_conv_layer`` with "same" padding by default.

        Args: as :class:`ConvNormAct`; ``bias`` (default False) for convs whose output is not normalized.

        Returns:
            nn.Module: ``nn.Conv2d`` (or what ``conv_cfg`` names), padding ``dilation * (kernel_size // 2)``
            unless given.
        """
        if padding is None:
            padding = dilation * (kernel_size // 2)
        extra = {} if output_padding is None else dict(output_padding=output_padding)
        return build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                                padding=padding, dilation=dilation, bias=bias, **extra)
