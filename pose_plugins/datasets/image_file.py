"""Cheap checks that an image file can be used: read its header and its last bytes, never decode it."""
from __future__ import annotations

import os.path as osp
from typing import Optional, Tuple

__all__ = ['image_file_problem']

# How much of an image file's end is searched for its end marker (a truncated copy or download loses it).
TAIL_BYTES = 256
_END_MARKERS = {'JPEG': b'\xff\xd9', 'PNG': b'IEND'}


def image_file_problem(path: str, expected_size: Optional[Tuple[int, int]] = None) -> Optional[str]:
    """What makes an image file unusable, or None when it looks fine.

    Finds missing, empty, unidentifiable, truncated (JPEG / PNG end marker) and wrongly sized files, without a
    decode.

    Args:
        path (str): A local file path.
        expected_size (tuple[int, int], optional): ``(width, height)`` the image must have; None: any.

    Returns:
        str | None: The problem in words, or None.
    """
    if not osp.isfile(path):
        return 'image file does not exist'
    size = osp.getsize(path)
    if size == 0:
        return 'image file is empty (0 bytes)'
    from PIL import Image
    try:
        with Image.open(path) as image:
            image_format, actual_size = image.format, image.size
    except Exception as err:  # PIL raises UnidentifiedImageError, OSError, SyntaxError ... for bad headers
        return f'image file is not a readable image ({type(err).__name__}: {err})'
    marker = _END_MARKERS.get(image_format)
    if marker is not None:
        with open(path, 'rb') as f:
            f.seek(max(0, size - TAIL_BYTES))
            if marker not in f.read():
                return f'image file is truncated (no {image_format} end marker in its last {TAIL_BYTES} bytes)'
    if expected_size is not None and tuple(actual_size) != tuple(expected_size):
        return (f'image is {actual_size[0]}x{actual_size[1]} pixels but its "images" entry says '
                f'width={expected_size[0]}, height={expected_size[1]}')
    return None
