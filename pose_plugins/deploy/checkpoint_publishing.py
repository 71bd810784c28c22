"""A training checkpoint reduced to ``state_dict`` and ``meta``, loadable by ``torch.load(weights_only=True)``.

As mmpose's ``tools/misc/publish_model.py`` (sha256 prefix in the file name), except that ``meta`` is reduced to
plain values (numpy to lists and numbers, other objects dropped and reported) so no allowlist is needed.
"""
import hashlib
import os
import os.path as osp
import tempfile
from typing import Any, List, Tuple

import numpy as np
import torch

from pose_plugins.compat import load_checkpoint_safely
from .file_output import default_permissions

__all__ = ['publish_checkpoint', 'plain_meta', 'KEPT_KEYS']

KEPT_KEYS = ('state_dict', 'meta')
_PLAIN = (str, int, float, bool, type(None))
_DROP = object()


def plain_meta(value: Any, path: str = 'meta') -> Tuple[Any, List[str]]:
    """``value`` with numpy as lists and numbers; anything but plain values, tensors, lists and dicts dropped.

    Returns:
        Tuple[Any, List[str]]: The plain value and the dotted paths of what was dropped (with its type).
    """
    if isinstance(value, np.ndarray):
        return value.tolist(), []
    if isinstance(value, np.generic):
        return value.item(), []
    if isinstance(value, (_PLAIN, torch.Tensor)):
        return value, []
    dropped: List[str] = []
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, _PLAIN):
                dropped.append(f'{path}[{key!r}] (key of type {type(key).__name__})')
                continue
            item, lost = plain_meta(item, f'{path}.{key}')
            if item is _DROP:
                dropped += lost or [f'{path}.{key}']
            else:
                out[key] = item
                dropped += lost
        return out, dropped
    if isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            item, lost = plain_meta(item, f'{path}[{index}]')
            dropped += lost
            if item is not _DROP:
                items.append(item)
        return type(value)(items), dropped
    return _DROP, [f'{path} ({type(value).__module__}.{type(value).__name__})']



def publish_checkpoint(in_file: str, out_prefix: str) -> Tuple[str, List[str], List[str]]:
    """Write the published copy of ``in_file`` as ``<out_prefix>-<sha256[:8]>.pth`` (never over a file).

    Args:
        in_file (str): A checkpoint dict with ``state_dict``.
        out_prefix (str): Path prefix of the result; a trailing ``.pth`` is removed.

    Returns:
        Tuple[str, List[str], List[str]]: The file, the top-level keys removed, the meta entries dropped.

    Raises:
        ValueError: ``in_file`` has no ``state_dict`` dict.
        FileExistsError: The published file already exists.
    """
    checkpoint = load_checkpoint_safely(in_file, map_location='cpu')
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get('state_dict'), dict):
        raise ValueError(f'{in_file}: expected a checkpoint dict with a state_dict, got '
                         f'{sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__}')
    removed = [key for key in checkpoint if key not in KEPT_KEYS]
    state_dict = {key: value for key, value in checkpoint['state_dict'].items() if isinstance(value, torch.Tensor)}
    published = dict(state_dict=state_dict)
    dropped: List[str] = [f'state_dict.{k} ({type(v).__name__})' for k, v in checkpoint['state_dict'].items()
                          if not isinstance(v, torch.Tensor)]
    if 'meta' in checkpoint:
        published['meta'], lost = plain_meta(checkpoint['meta'])
        dropped += lost
    prefix = out_prefix.removesuffix('.pth')
    directory = osp.dirname(osp.abspath(prefix))
    os.makedirs(directory, exist_ok=True)
    fd, partial = tempfile.mkstemp(suffix='.pth.partial', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(published, f)
        default_permissions(partial)
        with open(partial, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        final = f'{prefix}-{digest[:8]}.pth'
        if osp.exists(final):
            raise FileExistsError(f'{final} exists (the same published checkpoint?); not overwritten')
        os.link(partial, final)  # never replaces a file that appeared meanwhile
    finally:
        os.remove(partial)
    return final, removed, dropped
