"""The memory-format and compile half of the fast GPU training recipe (README "Performance")."""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from ..registry import HOOKS

__all__ = ['FastGPUTrainingHook']


@HOOKS.register_module()
class FastGPUTrainingHook(Hook):
    """Puts a model on a CUDA device in ``channels_last`` memory format and optionally compiles it, before training.

    With bf16 autocast (``AmpOptimWrapper(dtype='bfloat16')``, set beside this hook by ``tools/train.py --fast-gpu``)
    convolutions run on the tensor cores in NHWC, the layout cuDNN's bf16 kernels want, without a transpose before
    and after each convolution. The model's parameters and every input batch (a forward pre-hook on the model's
    ``backbone``, or the model itself) are converted; parameter names, values and checkpoints are unchanged
    (``channels_last`` is a stride order, not a different tensor).

    ``compile=True`` compiles the backbone and the head in place (``nn.Module.compile``, so state-dict keys keep
    their names and checkpoints stay loadable without the ``_orig_mod.`` prefix of ``torch.compile(module)``).

    On a model that is not on a CUDA device the hook does nothing and says so once: the recipe is for GPUs, and on
    a CPU it must not change a run's results.

    Args:
        channels_last (bool): convert the model and its inputs to ``torch.channels_last``. Default: True.
        compile (bool): compile the backbone and head in place. Default: False.
    """

    priority = 'VERY_HIGH'  # before the other hooks' before_train (e.g. EMA copies of the parameters)

    def __init__(self, *, channels_last: bool = True, compile: bool = False) -> None:
        self.channels_last = channels_last
        self.compile = compile

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not self.apply(model):
            runner.logger.warning('FastGPUTrainingHook: the model is not on a CUDA device; channels_last and '
                                  'compile are left off (the fast recipe is for GPUs; a CPU run is unchanged)')

    def apply(self, model: nn.Module) -> bool:
        """Convert ``model`` (and, through a pre-hook, its inputs) and compile its parts as configured; returns
        False, changing nothing, when the model's parameters are not on a CUDA device."""
        first = next(model.parameters(), None)
        if first is None or first.device.type != 'cuda':
            return False
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
            entry = getattr(model, 'backbone', None) or model
            entry.register_forward_pre_hook(_inputs_to_channels_last)
        if self.compile:
            for part in _compiled_parts(model):
                part.compile()
        return True


def _inputs_to_channels_last(module: nn.Module, args: tuple) -> Optional[tuple]:
    """Forward pre-hook: every 4-D tensor argument in ``channels_last`` memory format."""
    return tuple(a.contiguous(memory_format=torch.channels_last) if torch.is_tensor(a) and a.dim() == 4 else a
                 for a in args)


def _compiled_parts(model: nn.Module) -> list:
    """The modules compiled by ``compile=True``: the top-down estimator's backbone, neck and head, or the model."""
    parts = [getattr(model, name) for name in ('backbone', 'neck', 'head') if getattr(model, name, None) is not None]
    return parts or [model]
