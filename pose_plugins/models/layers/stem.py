"""``build_stem_conv``: the stride-2 conv + norm that every backbone's stem starts with.

ResNet (He et al., CVPR 2016: one 7x7 conv), HRNet (Sun et al., CVPR 2019: two 3x3 convs) and the Stacked
Hourglass (Newell et al., ECCV 2016: one 7x7 conv) all open with stride-2 convs that halve the image, each
followed by a norm layer and a ReLU. The conv has no bias: the norm's shift makes it redundant (torchvision,
mmpose and the original HRNet code alike).
"""
from typing import Union

import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmpose.utils.typing import OptConfigType

__all__ = ['build_stem_conv']


def build_stem_conv(in_channels: int,
                    out_channels: int,
                    *,
                    kernel_size: int,
                    conv_cfg: OptConfigType = None,
                    norm_cfg: OptConfigType = None,
                    postfix: Union[int, str] = '') -> tuple[nn.Module, str, nn.Module]:
    """A ``kernel_size`` x ``kernel_size`` stride-2 conv without bias (padding ``kernel_size // 2``) and its norm.

    Shapes:
        (B, in_channels, H, W) -> (B, out_channels, ceil(H / 2), ceil(W / 2)) for odd ``kernel_size``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels of the conv and width of the norm.
        kernel_size (int): Conv kernel size (odd: 7 for ResNet and the Hourglass, 3 for HRNet).
        conv_cfg (dict, optional): mmcv conv config. Default: ``None`` (``nn.Conv2d``).
        norm_cfg (dict, optional): mmcv norm config. Default: ``dict(type='BN')``. Not modified.
        postfix (int | str): Appended to the norm's name by ``build_norm_layer`` (``1`` -> ``'bn1'`` for BN).
            Default: ``''``.

    Returns:
        tuple: ``(conv, norm_name, norm)``; the caller registers them (the name keeps mmpose's / torchvision's
        parameter names, e.g. ``conv1`` and ``bn1``).
    """
    norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
    conv = build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size=kernel_size, stride=2,
                            padding=kernel_size // 2, bias=False)
    norm_name, norm = build_norm_layer(norm_cfg, out_channels, postfix=postfix)
    return conv, norm_name, norm
