"""Make the codecs' torch decoding traceable by ``torch.onnx.export`` for the duration of an export.

The codecs decode through :mod:`pose_plugins.codecs.utils.heatmap_decode`, written once for numpy and torch. Two
of its choices suit eager execution but not the ONNX tracer, and :func:`traceable_decoding` switches them for
the duration of an export (and restores them, also on error):

- ``_uses_numpy``: on CPU the cheap steps run in numpy (faster there), which the tracer cannot record; inside
  the context every step takes the torch path of the same functions (``get_heatmap_maximum``,
  ``refine_keypoints_quarter_offset``, ``flat_argmax``), which the module documents as giving the same numbers.
- ``blur_heatmaps`` reads the channel count K from the heatmaps' shape; traced, that count becomes a graph value
  and the depthwise kernel ``expand(K, 1, 1, k)`` an unknown shape, which ONNX's Conv refuses ("kernel of
  unknown shape"). Inside the context it is called with K as a Python int (a constant of the model): the same
  taps, the same two depthwise convolutions in the same order, so the same numbers.

Both would be unnecessary with two one-line changes in ``heatmap_decode.py`` (``_uses_numpy`` false while
``torch.jit.is_tracing()``; ``K = int(heatmaps.shape[1])``); this module then reduces to a no-op.
"""
import contextlib
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

from pose_plugins.codecs import blur_heatmap
from pose_plugins.codecs.utils import heatmap_decode

__all__ = ['traceable_decoding']


def _blur_heatmaps_constant_channels(heatmaps: Tensor, kernel_size: int) -> Tensor:
    """:func:`heatmap_decode.blur_heatmaps` with the channel count K taken as a Python int (traceable).

    Args:
        heatmaps (Tensor): (B, K, H, W).
        kernel_size (int): Odd kernel size >= 1.

    Returns:
        Tensor: (B, K, H, W), the separable zero-padded Gaussian blur with OpenCV's taps.
    """
    channels = int(heatmaps.shape[1])  # fixed by the model: a constant of the graph, not a traced shape
    pad = kernel_size // 2
    kernel = torch.as_tensor(heatmap_decode.dark_blur_kernel(kernel_size)).to(heatmaps.dtype)
    rows = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1).contiguous()
    blurred = F.conv2d(heatmaps, rows, padding=(0, pad), groups=channels)
    return F.conv2d(blurred, rows.view(channels, 1, kernel_size, 1), padding=(pad, 0), groups=channels)


@contextlib.contextmanager
def traceable_decoding() -> Iterator[None]:
    """Within the context, the codecs' decoding runs on torch only and with constant kernel shapes (see the
    module docstring); the previous functions are restored on exit."""
    saved = (heatmap_decode._uses_numpy, heatmap_decode.blur_heatmaps, blur_heatmap.blur_heatmaps)
    heatmap_decode._uses_numpy = lambda tensor: False
    heatmap_decode.blur_heatmaps = _blur_heatmaps_constant_channels
    blur_heatmap.blur_heatmaps = _blur_heatmaps_constant_channels
    try:
        yield
    finally:
        heatmap_decode._uses_numpy, heatmap_decode.blur_heatmaps, blur_heatmap.blur_heatmaps = saved
