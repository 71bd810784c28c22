"""RNGStateHook and rng_state: the random streams round-trip through a checkpoint and the safe loader, and a run
interrupted mid-epoch and resumed ends with the same weights as an uninterrupted one (in-process, a real mmengine
Runner on toy data that draws from all three global streams: tests/engine/toy_runner.py). The same through
``tools/train.py`` and ``kill -9`` is test_kill_and_resume.py.

Tolerance 0 (``torch.equal``): same process, same CPU, the same float operations in the same order.
"""
import gc
import random

import numpy as np
import pytest
import torch
from mmengine.hooks import CheckpointHook

from pose_plugins.compat import load_checkpoint_safely
from pose_plugins.engine import RESUME_KEY, CrashSafeCheckpointHook, RNGStateHook, get_rng_state, set_rng_state
from toy_runner import NUM_SAMPLES, CrashAt, SimulatedCrash, final_weights, make_runner


def _draws() -> tuple:
    return random.random(), random.gauss(0, 1), float(np.random.rand()), float(np.random.randn()), \
        torch.rand(3).tolist()


def test_rng_state_round_trips_every_stream():
    random.gauss(0, 1)  # leaves a cached Gaussian in Python's state ...
    np.random.randn()  # ... and numpy's has_gauss / cached_gaussian
    state = get_rng_state()
    expected = _draws()
    random.seed(99), np.random.seed(99), torch.manual_seed(99)
    set_rng_state(state)
    assert _draws() == expected


def test_rng_state_loads_with_plain_weights_only(tmp_path):
    """Plain ints/floats/str/lists and one tensor: torch's weights_only unpickler needs no allowlist for it."""
    torch.save({RESUME_KEY: get_rng_state()}, tmp_path / 'state.pth')
    state = torch.load(tmp_path / 'state.pth', weights_only=True)[RESUME_KEY]
    expected = _draws()
    set_rng_state(state)
    assert _draws() == expected


def _crash_and_resume(tmp_path, *, checkpoint_hook, rng_hook, **loader) -> dict:
    with pytest.raises(SimulatedCrash):
        make_runner(tmp_path, checkpoint_hook=checkpoint_hook(), rng_hook=rng_hook and rng_hook(), max_epochs=3,
                    custom_hooks=[CrashAt(epoch=2, batch=2)], **loader).train()
    assert (tmp_path / 'last_checkpoint').read_text().endswith('epoch_1.pth')
    resumed = make_runner(tmp_path, checkpoint_hook=checkpoint_hook(), rng_hook=rng_hook and rng_hook(),
                          max_epochs=3, resume=True, **loader)
    resumed.train()
    return final_weights(resumed)


def _uninterrupted(tmp_path, *, checkpoint_hook, rng_hook, **loader) -> dict:
    runner = make_runner(tmp_path, checkpoint_hook=checkpoint_hook(), rng_hook=rng_hook and rng_hook(),
                         max_epochs=3, **loader)
    runner.train()
    return final_weights(runner)


OURS = dict(checkpoint_hook=lambda: CrashSafeCheckpointHook(interval=1, max_keep_ckpts=1), rng_hook=RNGStateHook)


@pytest.mark.parametrize('loader', [dict(num_workers=0), dict(num_workers=2, persistent_workers=False)],
                         ids=['main process', '2 workers restarted each epoch'])
def test_resume_after_a_mid_epoch_crash_ends_with_the_uninterrupted_weights(tmp_path, loader):
    """With workers restarted each epoch, mmengine seeds worker k with seed + k every epoch, so a resumed epoch's
    workers draw what the uninterrupted run's drew."""
    reference = _uninterrupted(tmp_path / 'uninterrupted', **OURS, **loader)
    resumed = _crash_and_resume(tmp_path / 'crashed', **OURS, **loader)
    assert all(torch.equal(reference[k], resumed[k]) for k in reference), (reference, resumed)
    checkpoint = load_checkpoint_safely(str(tmp_path / 'crashed' / 'epoch_3.pth'))
    carried = checkpoint[RESUME_KEY]
    assert (carried['epoch'], carried['iter'], carried['batch_in_epoch']) == (3, 3 * NUM_SAMPLES // 2, 0)
    assert carried['sampler'] == dict(seed=0, epoch=2)


def test_without_the_hook_the_resumed_run_differs(tmp_path):
    """The control: mmengine's hooks alone restore no random stream, so the same crash changes the weights."""
    hooks = dict(checkpoint_hook=lambda: CheckpointHook(interval=1, max_keep_ckpts=1), rng_hook=None)
    reference = _uninterrupted(tmp_path / 'uninterrupted', **hooks)
    resumed = _crash_and_resume(tmp_path / 'crashed', **hooks)
    assert not all(torch.equal(reference[k], resumed[k]) for k in reference)


def test_persistent_workers_make_resume_inexact(tmp_path, monkeypatch):
    """What mmengine makes impossible: persistent workers keep their random streams across epochs inside the
    worker processes, which no hook in the main process can read; a resumed run restarts them from the seed.
    (The README says so; if this starts to fail, mmengine changed and the README must too.)"""
    # torch waits up to this long (5 s) for each idle persistent worker to see its stop signal: 20 s per test
    monkeypatch.setattr(torch.utils.data._utils, 'MP_STATUS_CHECK_INTERVAL', 0.2)
    loader = dict(num_workers=2, persistent_workers=True)
    reference = _uninterrupted(tmp_path / 'uninterrupted', **OURS, **loader)
    resumed = _crash_and_resume(tmp_path / 'crashed', **OURS, **loader)
    gc.collect()  # stop the crashed run's workers now, while the short interval holds
    assert not all(torch.equal(reference[k], resumed[k]) for k in reference)


def test_validation_does_not_move_the_training_streams(tmp_path):
    """Validation draws from the streams too; the hook puts them back, so a run's training (and a resume, which
    skips the validation of the epoch it resumes after) sees the same draws with and without validation."""
    hook = lambda: CrashSafeCheckpointHook(interval=1)  # noqa: E731
    with_val = make_runner(tmp_path / 'val', checkpoint_hook=hook(), rng_hook=RNGStateHook())
    with_val.train()
    without_val = make_runner(tmp_path / 'no_val', checkpoint_hook=hook(), rng_hook=RNGStateHook())
    without_val._val_loop = None  # as tools/train.py --no-validate
    without_val.train()
    a, b = final_weights(with_val), final_weights(without_val)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resuming_a_checkpoint_without_rng_state_warns(tmp_path, capsys):
    make_runner(tmp_path, checkpoint_hook=CheckpointHook(interval=1), max_epochs=1).train()
    resumed = make_runner(tmp_path, checkpoint_hook=CrashSafeCheckpointHook(interval=1), rng_hook=RNGStateHook(),
                          max_epochs=2, resume=True)
    resumed.train()
    assert 'carries no RNG state' in capsys.readouterr().out


def test_resuming_a_mid_epoch_checkpoint_warns_that_mmengine_replays_the_epoch(tmp_path, capsys):
    """CheckpointHook(by_epoch=False) in an epoch-based loop: mmengine restarts the epoch; said, not hidden."""
    hook = lambda: CrashSafeCheckpointHook(interval=3, by_epoch=False)  # noqa: E731  (4 iterations per epoch)
    with pytest.raises(SimulatedCrash):
        make_runner(tmp_path, checkpoint_hook=hook(), rng_hook=RNGStateHook(),
                    custom_hooks=[CrashAt(epoch=2, batch=0)]).train()
    assert load_checkpoint_safely(str(tmp_path / 'iter_3.pth'))[RESUME_KEY]['batch_in_epoch'] == 3
    make_runner(tmp_path, checkpoint_hook=hook(), rng_hook=RNGStateHook(), resume=True).train()
    assert 'written 3 batches into epoch 1' in capsys.readouterr().out
