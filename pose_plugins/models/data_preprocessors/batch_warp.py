"""The top-down crop of a batch on its device: ``cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR)`` (constant
border 0) of every sample in one ``grid_sample`` call, the matrices from ``TopdownAffineMatrix``.

Note:
    B: samples, C: channels, (Hp, Wp): the padded batch's size, (h, w): the crop's size.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['pad_to_batch', 'warp_affine_batch']


def pad_to_batch(images: Sequence[Tensor]) -> Tensor:
    """Stack B images (C, H_i, W_i) into (B, C, max H_i, max W_i), zero-padded at the bottom and right, same dtype.

    When all the images are on the CPU and CUDA is available the batch is in pinned memory, so that
    ``.to(device, non_blocking=True)`` overlaps the copy; otherwise a plain tensor on the images' device.
    """
    if not images:
        raise ValueError('pad_to_batch: no images')
    if any(img.dim() != 3 or img.shape[0] != images[0].shape[0] or img.dtype != images[0].dtype
           for img in images):
        raise ValueError(f'pad_to_batch: expected (C, H, W) images of one C and dtype, got '
                         f'{[(tuple(img.shape), img.dtype) for img in images]}')
    height = max(img.shape[1] for img in images)
    width = max(img.shape[2] for img in images)
    pin = torch.cuda.is_available() and all(img.device.type == 'cpu' for img in images)
    batch = torch.empty((len(images), images[0].shape[0], height, width), dtype=images[0].dtype,
                        device=images[0].device, pin_memory=pin).zero_()
    for out, img in zip(batch, images):
        out[:, :img.shape[1], :img.shape[2]] = img
    return batch


def _normalize(width: float, height: float) -> Tensor:
    """(3, 3) float64: pixel coordinates (pixel centres at integers, as OpenCV) -> grid_sample's [-1, 1] with
    ``align_corners=False`` (-1 and 1 are the outer edges of the first and last pixel)."""
    return torch.tensor([[2.0 / width, 0.0, 1.0 / width - 1.0], [0.0, 2.0 / height, 1.0 / height - 1.0],
                         [0.0, 0.0, 1.0]], dtype=torch.float64)


def warp_affine_batch(images: Tensor, sizes: Tensor, matrices: Tensor, out_size: Tuple[int, int]) -> Tensor:
    """The crops ``cv2.warpAffine`` makes, rounded as its uint8 output, for a padded batch on any device.

    Args:
        images (Tensor): (B, C, Hp, Wp) uint8 or float, e.g. from :func:`pad_to_batch`.
        sizes (Tensor): (B, 2) each image's true (W_i, H_i); pixels at x >= W_i or y >= H_i are read as the
            constant border 0, whatever the padded batch holds there. With zero padding this changes nothing (the
            pad and grid_sample's ``padding_mode='zeros'`` both read 0, as OpenCV's BORDER_CONSTANT does); the mask
            makes the result independent of the padding.
        matrices (Tensor): (B, 2, 3) source pixels -> crop pixels, the ``M`` of ``cv2.warpAffine`` (any device).
        out_size (Tuple[int, int]): the crop's (w, h).

    Returns:
        Tensor: (B, C, h, w) float32 on ``images.device``: integers in [0, 255], the bilinear sample rounded half
        up as OpenCV's fixed point does. OpenCV samples at coordinates rounded to 1/32 pixel, this at float32 ones:
        they differ by at most ``ceil(L (2 (1/64 + 1/1024 + 1e-3) + 2^-14) + 1e-3)``, L the largest difference of
        adjacent source pixels around the sample (derivation in tests/models/test_batch_warp.py).
    """
    batch, channels, height, width = images.shape
    w, h = out_size
    m = matrices.to(torch.float64)
    # the inverse (crop -> source) as cv2.warpAffine computes it: float64, a singular matrix gives zeros
    det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    inv_det = torch.where(det != 0, 1.0 / torch.where(det != 0, det, 1.0), 0.0)
    a11, a12 = m[:, 1, 1] * inv_det, -m[:, 0, 1] * inv_det
    a21, a22 = -m[:, 1, 0] * inv_det, m[:, 0, 0] * inv_det
    b1 = -a11 * m[:, 0, 2] - a12 * m[:, 1, 2]
    b2 = -a21 * m[:, 0, 2] - a22 * m[:, 1, 2]
    inverse = torch.stack([a11, a12, b1, a21, a22, b2, torch.zeros_like(b1), torch.zeros_like(b1),
                           torch.ones_like(b1)], dim=-1).reshape(-1, 3, 3)
    to_grid = _normalize(width, height).to(m.device)
    from_grid = torch.tensor([[w / 2.0, 0.0, (w - 1) / 2.0], [0.0, h / 2.0, (h - 1) / 2.0], [0.0, 0.0, 1.0]],
                             dtype=torch.float64, device=m.device)  # the inverse of _normalize(w, h)
    theta = (to_grid @ inverse @ from_grid)[:, :2].to(device=images.device, dtype=torch.float32)

    sizes = sizes.to(images.device)
    inside = (torch.arange(width, device=images.device) < sizes[:, :1]).unsqueeze(1) \
        & (torch.arange(height, device=images.device) < sizes[:, 1:]).unsqueeze(2)  # (B, Hp, Wp)
    source = images.to(torch.float32, copy=True).masked_fill_(~inside.unsqueeze(1), 0.0)
    grid = F.affine_grid(theta, [batch, channels, h, w], align_corners=False)
    crops = F.grid_sample(source, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    return crops.add_(0.5).floor_().clamp_(0.0, 255.0)
