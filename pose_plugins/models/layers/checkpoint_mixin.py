"""``CheckpointMixin``: activation checkpointing (Chen et al., 2016) behind ``with_cp``.

Unlike mmpose (which checks ``x.requires_grad``) it checks ``torch.is_grad_enabled()`` and is non-reentrant, so it
also works when the input needs no gradient (e.g. after frozen stages).
"""
from typing import Callable

import torch
import torch.utils.checkpoint as cp
from torch import Tensor

__all__ = ['CheckpointMixin']


class CheckpointMixin:
    """Adds :meth:`_maybe_checkpoint` to an ``nn.Module`` that sets ``self.with_cp``."""

    with_cp: bool = False

    def _maybe_checkpoint(self, function: Callable[..., Tensor], *args: Tensor) -> Tensor:
        """``function(*args)``, recomputed in backward when ``with_cp`` and grad are on."""
        if self.with_cp and torch.is_grad_enabled():
            return cp.checkpoint(function, *args, use_reentrant=False)
        return function(*args)
