"""CrashSafeCheckpointHook: a save interrupted at any point leaves the previous checkpoint loadable, named by
``last_checkpoint``, and resume works; mmengine's own hook under the same fault leaves nothing loadable.

Faults are injected in-process into a real mmengine Runner (tests/engine/toy_runner.py) during the save at the end
of epoch 2, with ``max_keep_ckpts=1`` (what our demo configs keep); the real ``kill -9`` of ``tools/train.py`` is in
test_kill_and_resume.py.
"""
import errno
import os

import pytest
import torch
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from pose_plugins.compat import load_checkpoint_safely
from pose_plugins.engine import CrashSafeCheckpointHook, RNGStateHook, atomic_io
from toy_runner import make_runner


class SimulatedCrash(BaseException):
    """Not an Exception: nothing on the way may swallow it, as nothing can swallow a kill."""


def _of_epoch_2(name: str, data: bytes) -> bool:
    """Whether a write belongs to the save of epoch 2 (last_checkpoint is written at every save)."""
    return name != 'last_checkpoint' or bytes(data).endswith(b'epoch_2.pth')


def _fail_writing(monkeypatch, name: str, after_bytes, error: BaseException) -> None:
    """The atomic writer raises ``error`` after ``after_bytes`` bytes ('all': after the last) of file ``name``."""
    write_all = atomic_io._write_all

    def failing(fileobj, data):
        if not os.path.basename(fileobj.name).startswith(f'.{name}.') or not _of_epoch_2(name, data):
            return write_all(fileobj, data)
        n = len(data) if after_bytes == 'all' else int(after_bytes * len(data)) if isinstance(after_bytes, float) \
            else after_bytes
        fileobj.write(data[:n])
        raise error

    monkeypatch.setattr(atomic_io, '_write_all', failing)


def _fail_renaming(monkeypatch, name: str) -> None:
    replace = os.replace

    def failing(src, dst, *args, **kwargs):
        if os.path.basename(dst) == name and _of_epoch_2(name, open(src, 'rb').read()):
            raise SimulatedCrash(f'crash before renaming onto {name}')
        return replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, 'replace', failing)


def _fail_removing_outdated(monkeypatch) -> None:
    def failing(self, path):
        raise SimulatedCrash(f'crash before removing {path}')

    monkeypatch.setattr(CrashSafeCheckpointHook, '_remove', failing)


FULL_DISK = OSError(errno.ENOSPC, 'No space left on device')
FAULTS = {  # the save of epoch 2 fails ...
    'epoch_2.pth, disk full before the first byte': lambda mp: _fail_writing(mp, 'epoch_2.pth', 0, FULL_DISK),
    'epoch_2.pth, disk full after 1 byte': lambda mp: _fail_writing(mp, 'epoch_2.pth', 1, FULL_DISK),
    'epoch_2.pth, crash after half of the bytes': lambda mp: _fail_writing(mp, 'epoch_2.pth', 0.5,
                                                                             SimulatedCrash()),
    'epoch_2.pth, disk full after every byte (at flush)': lambda mp: _fail_writing(mp, 'epoch_2.pth', 'all',
                                                                                     FULL_DISK),
    'epoch_2.pth, crash before the rename': lambda mp: _fail_renaming(mp, 'epoch_2.pth'),
    'last_checkpoint, crash after half of the bytes': lambda mp: _fail_writing(mp, 'last_checkpoint', 0.5,
                                                                                 SimulatedCrash()),
    'last_checkpoint, crash before the rename': lambda mp: _fail_renaming(mp, 'last_checkpoint'),
    'crash before removing epoch_1.pth': _fail_removing_outdated,
    'best checkpoint, disk full after half of the bytes': lambda mp: _fail_writing(mp, 'best_err_epoch_2.pth', 0.5,
                                                                                     FULL_DISK),
}


def _hook() -> CrashSafeCheckpointHook:
    return CrashSafeCheckpointHook(interval=1, max_keep_ckpts=1, save_best='err', rule='less')


@pytest.mark.parametrize('fault', list(FAULTS))
def test_interrupted_save_leaves_a_loadable_checkpoint_and_resume_works(tmp_path, monkeypatch, fault):
    with monkeypatch.context() as mp:
        FAULTS[fault](mp)
        with pytest.raises((OSError, SimulatedCrash)):
            make_runner(tmp_path, checkpoint_hook=_hook(), rng_hook=RNGStateHook()).train()

    last = (tmp_path / 'last_checkpoint').read_text()
    checkpoint = load_checkpoint_safely(last)  # complete: the safe loader reads all of it
    assert checkpoint['meta']['epoch'] in (1, 2)
    if checkpoint['meta']['epoch'] == 1:
        assert not (tmp_path / 'epoch_2.pth').exists() or 'last_checkpoint' in fault
    best = sorted(tmp_path.glob('best_err_epoch_*.pth'))
    assert best and all(load_checkpoint_safely(str(path))['meta']['epoch'] for path in best), best
    assert not list(tmp_path.glob('.*.partial')), 'a failing write removes its temporary file'

    resumed = make_runner(tmp_path, checkpoint_hook=_hook(), rng_hook=RNGStateHook(), resume=True)
    resumed.train()
    assert resumed.epoch == 2
    assert (tmp_path / 'last_checkpoint').read_text().endswith('epoch_2.pth')
    assert load_checkpoint_safely(str(tmp_path / 'epoch_2.pth'))['meta']['epoch'] == 2


def test_previous_best_checkpoint_survives_a_failing_new_best(tmp_path, monkeypatch):
    with monkeypatch.context() as mp:
        FAULTS['best checkpoint, disk full after half of the bytes'](mp)
        with pytest.raises(OSError, match='No space left'):
            make_runner(tmp_path, checkpoint_hook=_hook(), rng_hook=RNGStateHook()).train()
    # err improved at epoch 2 (the new best was being written), and the epoch-1 best is still there, complete
    assert load_checkpoint_safely(str(tmp_path / 'best_err_epoch_1.pth'))['meta']['epoch'] == 1
    assert not (tmp_path / 'best_err_epoch_2.pth').exists()


def test_mmengine_checkpoint_hook_loses_every_checkpoint_under_the_same_fault(tmp_path, monkeypatch):
    """Why the hook exists: mmengine 0.10.7 deletes epoch_1.pth first, then writes epoch_2.pth in place."""
    put = LocalBackend.put

    def full_disk_half_way(self, obj, filepath):
        if os.path.basename(filepath) != 'epoch_2.pth':
            return put(self, obj, filepath)
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(LocalBackend, 'put', full_disk_half_way)
    with pytest.raises(OSError):
        make_runner(tmp_path, checkpoint_hook=CheckpointHook(interval=1, max_keep_ckpts=1)).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_2.pth']  # epoch_1.pth is gone
    with pytest.raises(Exception):
        load_checkpoint_safely(str(tmp_path / 'epoch_2.pth'))  # and epoch_2.pth is truncated


def test_partial_files_of_a_killed_save_are_removed_at_the_next_start(tmp_path):
    make_runner(tmp_path, checkpoint_hook=_hook(), max_epochs=1).train()
    left = [tmp_path / '.epoch_2.pth.4242.partial', tmp_path / '.last_checkpoint.4242.partial']
    mine = tmp_path / '.notes.partial'  # not a name the writer makes: left alone
    for path in [*left, mine]:
        path.write_bytes(b'half')
    make_runner(tmp_path, checkpoint_hook=_hook(), max_epochs=2, resume=True).train()
    assert not any(p.exists() for p in left) and mine.exists()
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pth')) == ['epoch_2.pth']


def test_resume_never_executes_the_config_text_a_checkpoint_carries(tmp_path):
    """mmengine's resume runs ``Config.fromstring(meta['config'], '.py')``: code, past the safe unpickler."""
    make_runner(tmp_path, checkpoint_hook=_hook(), max_epochs=1).train()
    checkpoint = load_checkpoint_safely(str(tmp_path / 'epoch_1.pth'))
    evidence = tmp_path / 'config_was_executed'
    checkpoint['meta']['config'] = f"x = open({str(evidence)!r}, 'w').close()\n"
    torch.save(checkpoint, tmp_path / 'epoch_1.pth')
    make_runner(tmp_path, checkpoint_hook=_hook(), max_epochs=2, resume=True).train()
    assert not evidence.exists()
    # the control: mmengine's hook alone executes it
    checkpoint['meta']['config'] = f"x = open({str(evidence)!r}, 'w').close()\n"
    torch.save(checkpoint, tmp_path / 'epoch_1.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    make_runner(tmp_path, checkpoint_hook=CheckpointHook(interval=1), max_epochs=2, resume=True).train()
    assert evidence.exists()
