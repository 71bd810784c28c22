"""``CheckpointHook`` whose saves survive a crash, a ``kill -9`` or a full disk at any point."""
from __future__ import annotations

import os.path as osp
from typing import Any

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ..registry import HOOKS
from .atomic_io import atomic_write_text, remove_partial_files
from .atomic_local_backend import ATOMIC_LOCAL_BACKEND

__all__ = ['CrashSafeCheckpointHook']


class _DeferredRemovals:
    """File backend proxy that defers ``remove`` / ``rmtree`` until the new best checkpoint is written."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.pending: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def remove(self, path: str) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path: str) -> None:
        self.pending.append(('rmtree', path))


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments) with atomic writes of the checkpoint and ``last_checkpoint``.

    Differs from mmengine 0.10.7, which deletes the oldest (or previous best) checkpoint before writing the new
    one: outdated checkpoints are removed only after ``last_checkpoint`` names a complete new one, so it always
    names a loadable file. On resume, ``meta['config']`` is dropped (mmengine would execute it as Python). Non-local
    backends get a warning and mmengine's behaviour.
    """

    atomic = False  # set in before_train: whether the output directory is local

    def before_train(self, runner) -> None:
        out_dir = str(self.out_dir if self.out_dir is not None else runner.work_dir)
        backend = (self.backend_args or {}).get('backend', 'local')
        self.atomic = (self.file_client_args is None and '://' not in out_dir
                       and backend in ('local', ATOMIC_LOCAL_BACKEND))
        if self.atomic:
            self.backend_args = {**(self.backend_args or {}), 'backend': ATOMIC_LOCAL_BACKEND}
        else:
            runner.logger.warning(
                f'CrashSafeCheckpointHook: checkpoints go to {out_dir} through the {backend!r} storage backend; '
                'only local directories are written atomically, so these saves are as crash-safe as mmengine\'s.')
        super().before_train(runner)
        if self.atomic and is_main_process():
            for directory in {self.out_dir, runner.work_dir}:
                for path in remove_partial_files(directory):
                    runner.logger.info(f'removed {path}, left by a save that was interrupted')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta')
        if isinstance(meta, dict) and 'config' in meta:
            del meta['config']
            runner.logger.warning(
                "The checkpoint's meta['config'] was dropped unread: mmengine's resume would execute it as a Python "
                'config (only its GPU-count check is skipped).')

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        outdated = None
        if self.max_keep_ckpts > 0 and not (len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step):
            # _save_checkpoint and _save_best_checkpoint may save the same step
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft()))
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        # order: checkpoint, then last_checkpoint, then removal of the outdated one
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        save_file = osp.join(runner.work_dir, 'last_checkpoint')
        if self.atomic:
            atomic_write_text(save_file, self.last_ckpt)
        else:
            with open(save_file, 'w') as f:
                f.write(self.last_ckpt)
        if outdated is not None and outdated != self.last_ckpt:
            self._remove(outdated)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        backend, self.file_backend = self.file_backend, _DeferredRemovals(self.file_backend)
        try:
            super()._save_best_checkpoint(runner, metrics)
            pending = self.file_backend.pending
        finally:
            self.file_backend = backend
        keep = {self.last_ckpt, getattr(self, 'best_ckpt_path', None),
                *getattr(self, 'best_ckpt_path_dict', {}).values()}
        if is_main_process():
            for _, path in pending:
                if path not in keep:
                    self._remove(path)
