"""atomic_write_bytes / AtomicLocalBackend: the target is its old complete content or its new one, whatever fails."""
import errno
import os

import pytest
from mmengine.fileio import get_file_backend

from pose_plugins.engine import ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, atomic_io, atomic_write_bytes

OLD, NEW = b'old complete content', b'new content, ' * 1000


def _fail_after(n: int, error: BaseException):
    def write_all(fileobj, data):
        fileobj.write(data[:n])
        raise error
    return write_all


class SimulatedCrash(BaseException):
    pass


@pytest.mark.parametrize('n', [0, 1, len(NEW) // 2, len(NEW) - 1, len(NEW)],
                         ids=['no byte', 'one byte', 'half', 'all but one byte', 'every byte'])
@pytest.mark.parametrize('error', [OSError(errno.ENOSPC, 'No space left on device'), SimulatedCrash()],
                         ids=['disk full', 'crash'])
def test_failing_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, n, error):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(OLD)
    monkeypatch.setattr(atomic_io, '_write_all', _fail_after(n, error))
    with pytest.raises(type(error)):
        atomic_write_bytes(target, NEW)
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


@pytest.mark.parametrize('step', ['fsync', 'replace'])
def test_failing_fsync_or_rename_leaves_the_old_file(tmp_path, monkeypatch, step):
    target = tmp_path / 'last_checkpoint'
    target.write_bytes(OLD)

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, f'{step} failed')

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(OSError, match=f'{step} failed'):
        atomic_write_bytes(target, NEW)
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ['last_checkpoint']


def test_write_replaces_content_and_creates_the_directory(tmp_path):
    target = tmp_path / 'new_dir' / 'epoch_1.pth'
    atomic_write_bytes(target, NEW)
    assert target.read_bytes() == NEW
    atomic_write_bytes(target, OLD)
    assert target.read_bytes() == OLD


def test_backend_is_registered_under_its_own_name_and_writes_atomically(tmp_path, monkeypatch):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend=ATOMIC_LOCAL_BACKEND))
    assert type(backend) is AtomicLocalBackend
    assert type(get_file_backend(str(tmp_path))).__name__ == 'LocalBackend'  # mmengine's own is unchanged
    target = tmp_path / 'epoch_3.pth'
    target.write_bytes(OLD)
    monkeypatch.setattr(atomic_io, '_write_all', _fail_after(3, OSError(errno.ENOSPC, 'full')))
    with pytest.raises(OSError):
        backend.put(NEW, str(target))
    with pytest.raises(OSError):
        backend.put_text('epoch_4.pth', str(target))
    assert target.read_bytes() == OLD
