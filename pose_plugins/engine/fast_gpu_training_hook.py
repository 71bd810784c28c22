"""channels_last memory format and in-place compile for GPU training."""
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

    Parameters and input batches are converted; ``compile`` uses ``nn.Module.compile`` so state-dict keys are
    unchanged. A model not on CUDA is left as it is, with a warning.

    Args:
        channels_last (bool): Convert the model and its inputs to ``torch.channels_last``. Defaults to True.
        compile (bool): Compile the backbone, neck and head in place. Defaults to False.
    """

    priority = 'VERY_HIGH'  # before e.g. EMA copies the parameters

    def __init__(self, *, channels_last: bool = True, compile: bool = False) -> None:
        self.channels_last = channels_last
        self.compile = compile

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not self.apply(model):
            runner.logger.warning('FastGPUTrainingHook: the model is not on a CUDA device; channels_last and '
                                  'compile are left off (the fast recipe is for GPUs; a CPU run is unchanged)')

    def apply(self, model: nn.Module) -> bool:
        """Convert and compile ``model`` as configured; False, changing nothing, when it is not on CUDA."""
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
    return tuple(a.contiguous(memory_format=torch.channels_last) if torch.is_tensor(a) and a.dim() == 4 else a
                 for a in args)


def _compiled_parts(model: nn.Module) -> list:
    """Backbone, neck and head, or the model itself."""
    parts = [getattr(model, name) for name in ('backbone', 'neck', 'head') if getattr(model, name, None) is not None]
    return parts or [model]
