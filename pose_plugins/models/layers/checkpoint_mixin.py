"""``CheckpointMixin``: the one activation (gradient) checkpointing switch, ``with_cp``.

Chen et al., "Training Deep Nets with Sublinear Memory Cost", 2016: instead of keeping a block's intermediate
activations for backward, recompute them from its input (``torch.utils.checkpoint``). Same outputs and gradients,
less memory, one extra forward. mmpose's blocks check ``x.requires_grad``; we check ``torch.is_grad_enabled()``
and use the non-reentrant implementation (``use_reentrant=False``), which is correct also when the input needs no
gradient (e.g. after frozen stages) and is what torch recommends.
"""
from typing import Callable

import torch
import torch.utils.checkpoint as cp
from torch import Tensor

__all__ = ['CheckpointMixin']


class CheckpointMixin:
    """Adds :meth:`_maybe_checkpoint` to an ``nn.Module`` whose ``__init__`` sets ``self.with_cp`` (bool)."""

    with_cp: bool = False

    def _maybe_checkpoint(self, function: Callable[..., Tensor], *args: Tensor) -> Tensor:
        """``function(*args)``, recomputed in backward instead of stored when ``with_cp`` and grad are on."""
        if self.with_cp and torch.is_grad_enabled():
            return cp.checkpoint(function, *args, use_reentrant=False)
        return function(*args)
