"""Carry the random streams in every checkpoint, so that a resumed run continues as an uninterrupted one."""
from __future__ import annotations

from typing import Any, Optional

from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from ..registry import HOOKS
from .rng_state import get_rng_state, set_rng_state

__all__ = ['RESUME_KEY', 'RNGStateHook']

RESUME_KEY = 'pose_plugins_resume'


def _train_sampler(runner) -> Optional[Any]:
    loader = runner.train_dataloader
    if hasattr(loader.sampler, 'set_epoch'):
        return loader.sampler
    batch_sampler = getattr(loader, 'batch_sampler', None)
    return getattr(batch_sampler, 'sampler', None)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the RNG states and sampler position under ``checkpoint[RESUME_KEY]``; restore them on resume.

    Differs from mmengine 0.10.7, whose resume restores no RNG state. Validation is kept off the training
    streams (states set aside in ``before_val``). Exact with ``EpochBasedTrainLoop`` and epoch-end checkpoints;
    otherwise it warns at resume.
    """

    priority = 'LOWEST'

    def __init__(self) -> None:
        self._set_aside: Optional[dict[str, Any]] = None  # training streams while validation runs
        self._to_restore: Optional[dict[str, Any]] = None

    def before_val(self, runner) -> None:
        self._set_aside = get_rng_state()

    def after_val(self, runner) -> None:
        if self._set_aside is not None:
            set_rng_state(self._set_aside)
            self._set_aside = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        sampler = _train_sampler(runner)
        meta = checkpoint.get('meta', {})
        epoch, iteration = meta.get('epoch', runner.epoch), meta.get('iter', runner.iter)
        loop = runner.train_loop
        batches = len(loop.dataloader) if isinstance(loop, EpochBasedTrainLoop) else None
        checkpoint[RESUME_KEY] = dict(
            rng=self._set_aside if self._set_aside is not None else get_rng_state(),
            sampler=dict(seed=getattr(sampler, 'seed', None), epoch=getattr(sampler, 'epoch', None)),
            epoch=int(epoch), iter=int(iteration),
            batch_in_epoch=None if batches is None else int(iteration - epoch * batches))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from: weights only, the run starts afresh
        self._to_restore = checkpoint.get(RESUME_KEY)
        if self._to_restore is None:
            runner.logger.warning(
                'The checkpoint being resumed carries no RNG state (it was not written with pose_plugins\' '
                'RNGStateHook): the resumed run draws different augmentations than an uninterrupted one would.')

    def before_train_epoch(self, runner) -> None:
        state, self._to_restore = self._to_restore, None
        if state is None:
            return
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            runner.logger.warning(
                f'{type(loop).__name__}: mmengine re-runs the batches before the resumed iteration through the '
                'data pipeline, which draws from the random streams; the resumed run is not exact.')
        elif state.get('batch_in_epoch'):
            runner.logger.warning(
                f'The checkpoint was written {state["batch_in_epoch"]} batches into epoch {state["epoch"] + 1}; '
                'mmengine\'s EpochBasedTrainLoop replays that epoch from its start, so the resumed run is not '
                'exact. Save checkpoints at epoch ends (CheckpointHook by_epoch=True) for an exact resume.')
        set_rng_state(state['rng'])
        sampler, seed = _train_sampler(runner), state.get('sampler', {}).get('seed')
        if sampler is not None and seed is not None and hasattr(sampler, 'seed'):
            sampler.seed = seed
        runner.logger.info(f'restored the random streams and sampler seed ({seed}) of epoch {state["epoch"]}')
