"""The process's random streams (Python, numpy's global, torch CPU and CUDA) as plain data that loads under
torch's ``weights_only`` unpickler (ints, floats, strs, None, lists, dicts and tensors only)."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

__all__ = ['get_rng_state', 'set_rng_state']


def get_rng_state() -> dict[str, Any]:
    """The current state of ``random``, ``numpy.random``, ``torch`` and every CUDA device."""
    version, internal, gauss_next = random.getstate()
    bit_generator, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    state: dict[str, Any] = dict(
        python=dict(version=int(version), internal=[int(v) for v in internal], gauss_next=gauss_next),
        numpy=dict(bit_generator=str(bit_generator), keys=[int(k) for k in keys], pos=int(pos),
                   has_gauss=int(has_gauss), cached_gaussian=float(cached_gaussian)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned (CUDA states only where the same devices exist).

    Raises:
        KeyError: ``state`` lacks one of ``python``, ``numpy``, ``torch``.
    """
    py, npy = state['python'], state['numpy']
    random.setstate((py['version'], tuple(py['internal']), py['gauss_next']))
    np.random.set_state((npy['bit_generator'], np.asarray(npy['keys'], dtype=np.uint32), npy['pos'],
                         npy['has_gauss'], npy['cached_gaussian']))
    torch.set_rng_state(state['torch'].cpu())
    cuda = state.get('cuda')
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
