"""channels_last memory format and in-place compile (whole parts or the repeated blocks) for GPU training."""
from typing import Iterator, Optional, Sequence, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from ..registry import HOOKS

__all__ = ['DEFAULT_BLOCKS', 'FastGPUTrainingHook']

#: The repeated blocks ``compile='blocks'`` compiles: HRNet's multi-resolution modules and the residual blocks.
DEFAULT_BLOCKS = ('HRModule', 'Bottleneck', 'BasicBlock')


@HOOKS.register_module()
class FastGPUTrainingHook(Hook):
    """Puts a model on a CUDA device in ``channels_last`` memory format and optionally compiles it, before training.

    Parameters and input batches are converted; compiling uses ``nn.Module.compile`` so state-dict keys are
    unchanged. A model not on CUDA is left as it is, with a warning.

    ``compile='blocks'`` is regional compilation: each outermost module whose class is in ``blocks`` (HRNet's
    ``HRModule``, the ResNet blocks) is compiled on its own; modules of one class and structure share one compiled
    graph, so HRNet-W32 compiles a handful of graphs instead of one whole forward and backward. The stem,
    transitions and head stay eager.

    Args:
        channels_last (bool): Convert the model and its inputs to ``torch.channels_last``. Defaults to True.
        compile (bool | str): False; True or ``'whole'``: the backbone, neck and head; ``'blocks'``: the repeated
            blocks. Defaults to False.
        compile_mode (str, optional): ``torch.compile``'s ``mode`` (e.g. ``'reduce-overhead'``: CUDA graphs,
            ``'max-autotune-no-cudagraphs'``). Defaults to None (torch's default).
        blocks (Sequence[str]): Class names compiled by ``compile='blocks'``.
    """

    priority = 'VERY_HIGH'  # before e.g. EMA copies the parameters

    def __init__(self,
                 *,
                 channels_last: bool = True,
                 compile: Union[bool, str] = False,
                 compile_mode: Optional[str] = None,
                 blocks: Sequence[str] = DEFAULT_BLOCKS) -> None:
        if compile not in (False, True, 'whole', 'blocks'):
            raise ValueError(f"FastGPUTrainingHook: compile must be False, True, 'whole' or 'blocks', got {compile!r}")
        self.channels_last = channels_last
        self.compile = 'whole' if compile is True else compile
        self.compile_mode = compile_mode
        self.blocks = tuple(blocks)

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
            self.compile_model(model)
        return True

    def compile_model(self, model: nn.Module, **compile_kwargs) -> list:
        """Compile ``model``'s parts (``compile='whole'``) or blocks (``'blocks'``) in place, on any device;
        ``compile_kwargs`` go to ``torch.compile`` (e.g. ``backend``). Returns the compiled modules."""
        parts = list(_outermost(model, self.blocks)) if self.compile == 'blocks' else _compiled_parts(model)
        for part in parts:
            part.compile(mode=self.compile_mode, **compile_kwargs)
        return parts


def _inputs_to_channels_last(module: nn.Module, args: tuple) -> Optional[tuple]:
    return tuple(a.contiguous(memory_format=torch.channels_last) if torch.is_tensor(a) and a.dim() == 4 else a
                 for a in args)


def _outermost(module: nn.Module, class_names: Sequence[str]) -> Iterator[nn.Module]:
    """The submodules of ``module`` whose class is named in ``class_names``, not looking inside those."""
    for child in module.children():
        if type(child).__name__ in class_names:
            yield child
        else:
            yield from _outermost(child, class_names)


def _compiled_parts(model: nn.Module) -> list:
    """Backbone, neck and head, or the model itself."""
    parts = [getattr(model, name) for name in ('backbone', 'neck', 'head') if getattr(model, name, None) is not None]
    return parts or [model]
