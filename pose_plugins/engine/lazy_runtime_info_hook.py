"""mmengine's ``RuntimeInfoHook`` that reads the training step's log tensors back only when they are logged."""
from typing import Any, List, Optional, Sequence

import torch
from mmengine.hooks import LoggerHook, RuntimeInfoHook

from ..registry import HOOKS

__all__ = ['LazyRuntimeInfoHook', 'read_scalars']


@HOOKS.register_module()
class LazyRuntimeInfoHook(RuntimeInfoHook):
    """``RuntimeInfoHook`` (same info, same message-hub history) whose ``after_train_iter`` keeps the step's
    ``log_vars`` on their device and copies them to the host in one transfer on the iterations the
    ``LoggerHook`` logs, at the end of an epoch, before validation and checkpoints, and every ``max_pending``
    iterations.

    mmengine's hook calls ``.item()`` on every logged tensor of every iteration; on a GPU each call waits for the
    step's kernels, so the host cannot queue the next step while the device works. The values reach the message
    hub unchanged (scalars are widened to float64 before the copy, which is exact) and in the same order, so the
    logged windows and checkpoints equal mmengine's. Put it in ``default_hooks`` as ``runtime_info``.

    Args:
        max_pending (int): The most iterations held on the device before a copy. Defaults to 50.
    """

    def __init__(self, *, max_pending: int = 50) -> None:
        if max_pending < 1:
            raise ValueError(f'LazyRuntimeInfoHook: max_pending must be >= 1, got {max_pending}')
        self.max_pending = max_pending
        self._pending: List[dict] = []
        self._log_interval: Optional[int] = None

    def before_train(self, runner) -> None:
        super().before_train(runner)
        loggers = [hook for hook in runner.hooks if isinstance(hook, LoggerHook)]
        self._log_interval = loggers[0].interval if loggers else None

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        if outputs is not None:
            self._pending.append({key: value.detach() if torch.is_tensor(value) else value
                                  for key, value in outputs.items()})
        logs_now = self._log_interval is not None and self.every_n_inner_iters(batch_idx, self._log_interval)
        if logs_now or self.end_of_epoch(runner.train_dataloader, batch_idx) or len(self._pending) >= self.max_pending:
            self.flush(runner)

    def before_val(self, runner) -> None:
        self.flush(runner)
        super().before_val(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Flush, and store the message hub as it is then (the runner took its state before this hook)."""
        if self._pending:
            self.flush(runner)
            if 'message_hub' in checkpoint:
                checkpoint['message_hub'] = runner.message_hub.state_dict()

    def after_train(self, runner) -> None:
        self.flush(runner)
        super().after_train(runner)

    def flush(self, runner) -> None:
        """Copy the pending values to the host at once and update the message hub with them, in order."""
        pending, self._pending = self._pending, []
        read = iter(read_scalars([value for outputs in pending for value in outputs.values()
                                  if _is_float_scalar(value)]))
        for outputs in pending:
            for key, value in outputs.items():
                runner.message_hub.update_scalar(f'train/{key}', next(read) if _is_float_scalar(value) else value)


def read_scalars(values: Sequence[torch.Tensor]) -> List[float]:
    """One-element floating-point tensors as Python floats, read back in one device -> host copy (widened to
    float64, which is exact, so each equals its ``.item()``)."""
    if not values:
        return []
    device = values[0].device
    return torch.stack([v.reshape(()).to(device=device, dtype=torch.float64) for v in values]).tolist()


def _is_float_scalar(value: Any) -> bool:
    return torch.is_tensor(value) and value.numel() == 1 and value.is_floating_point()
