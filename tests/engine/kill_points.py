"""Test-only plugin for ``tools/train.py`` subprocesses: stall the run at a chosen point so that a test can
``kill -9`` it exactly there. Not part of pose_plugins; a test loads it with
``--cfg-options custom_imports.imports=[pose_plugins,kill_points]`` and ``tests/engine`` on ``PYTHONPATH``.

Environment (set by the test):
    KILL_POINT_MARKER  a file to create once the stall point is reached (the test waits for it, then kills).
    KILL_POINT_SAVE    a checkpoint name, e.g. ``epoch_2.pth``: stall in the middle of writing it, after half of
                       its bytes reached the disk (written and fsync-ed).
    KILL_POINT_ITER    ``EPOCH:BATCH`` (1-based epoch, 0-based batch): stall before that training iteration.
"""
import os
import time

from mmengine.runner import EpochBasedTrainLoop

from pose_plugins.engine import atomic_io

_STALL_S = 300  # far longer than any test waits: only the kill ends it


def _stall() -> None:
    with open(os.environ['KILL_POINT_MARKER'], 'w') as f:
        f.write(str(os.getpid()))
    time.sleep(_STALL_S)


if os.environ.get('KILL_POINT_SAVE'):
    _write_all = atomic_io._write_all

    def _write_half_then_stall(fileobj, data: bytes) -> None:
        if not os.path.basename(fileobj.name).startswith(f'.{os.environ["KILL_POINT_SAVE"]}.'):
            return _write_all(fileobj, data)
        _write_all(fileobj, data[:len(data) // 2])
        fileobj.flush()
        os.fsync(fileobj.fileno())
        _stall()

    atomic_io._write_all = _write_half_then_stall

if os.environ.get('KILL_POINT_ITER'):
    _epoch, _batch = (int(v) for v in os.environ['KILL_POINT_ITER'].split(':'))
    _run_iter = EpochBasedTrainLoop.run_iter

    def _run_iter_or_stall(self, idx, data_batch) -> None:
        if (self.epoch + 1, idx) == (_epoch, _batch):
            _stall()
        _run_iter(self, idx, data_batch)

    EpochBasedTrainLoop.run_iter = _run_iter_or_stall
