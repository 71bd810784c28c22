"""``torchvision.transforms`` of pose_plugins' stand-in: only :class:`ToPILImage` (what mmpose's visualizer uses)."""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ['ToPILImage']


class ToPILImage:
    """Stand-in for ``torchvision.transforms.ToPILImage`` (no ``mode`` argument).

    A (C, H, W) tensor (float in [0, 1] or integer) or an (H, W, C) / (H, W) array becomes a PIL image; one
    channel gives a greyscale image.
    """

    def __call__(self, pic: Any) -> Any:
        from PIL import Image
        import torch
        if isinstance(pic, torch.Tensor):
            array = pic.detach().cpu()
            if array.is_floating_point():
                array = (array.clamp(0, 1) * 255).round()
            array = array.to(torch.uint8).numpy()
            array = array.transpose(1, 2, 0) if array.ndim == 3 else array
        else:
            array = np.asarray(pic)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[..., 0]
        return Image.fromarray(array)

    def __repr__(self) -> str:
        return 'ToPILImage() (pose_plugins stand-in)'
