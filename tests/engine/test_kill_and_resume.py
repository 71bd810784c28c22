"""``kill -9`` of real ``tools/train.py`` processes, mid-epoch and mid-save, then ``--resume`` (slow).

One reference run trains the HRNet demo config on the tiny set for 2 epochs (6 iterations each, validation after
each epoch, ``max_keep_ckpts=1``, ``--deterministic``). A second run of the same config is killed in the middle of
epoch 2 (before its 4th batch); its resume is killed again in the middle of writing ``epoch_2.pth`` (half of the bytes
on disk); the next resume finishes. The stall points come from ``kill_points.py`` (test-only, loaded through
``custom_imports``), so each kill lands exactly where intended instead of after a guessed sleep.

What must hold:
* after each kill the previous checkpoint (``epoch_1.pth``) is complete, loads through the safe loader and is what
  ``last_checkpoint`` names; the killed save left only a ``.partial`` file, which the next run removes;
* same seed, same loss curve: the killed run logged exactly the reference's losses up to the kill;
* exact resume: the resumed run's epoch-2 losses, its final weights, optimizer state and validation metrics equal
  the reference's bit for bit. Tolerance 0, because every run here is on the same CPU with one OpenMP thread
  (``run_tool``), deterministic algorithms, ``num_workers=0``, and the checkpoint restores every random stream the
  training reads (Python, numpy, torch, the sampler's seed and epoch): the resumed epoch computes the same float
  operations in the same order as the uninterrupted one.
"""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from conftest import DEMO_CONFIG, REPO, tiny_run_options
from pose_plugins.compat import load_checkpoint_safely
from pose_plugins.engine import RESUME_KEY

pytestmark = pytest.mark.slow

ITERS_PER_EPOCH = 6  # 12 tiny images -> 24 people, batches of 4
KILL_BATCH = 3  # the first run dies before batch 3 (0-based) of epoch 2


def _options(root: Path) -> list:
    return [*tiny_run_options(root, max_epochs=2), 'default_hooks.checkpoint.max_keep_ckpts=1',
            'log_processor.window_size=1']  # log each iteration's own loss, not a running mean


@pytest.fixture(scope='module')
def config(tmp_path_factory) -> Path:
    """The demo config plus the test-only kill points (a user's config that imports us and a plugin of its own;
    ``custom_imports`` is read when the file is loaded, so it cannot come through ``--cfg-options``)."""
    path = tmp_path_factory.mktemp('config') / 'hrnet_tiny_kill_points.py'
    path.write_text(f"_base_ = [{str(DEMO_CONFIG)!r}]\n"
                    "custom_imports = dict(imports=['pose_plugins', 'kill_points'], allow_failed_imports=False)\n")
    return path


def _train(config: Path, root: Path, work_dir: Path, *extra: str, env_extra: dict = None) -> subprocess.Popen:
    path = [str(REPO), str(REPO / 'tests' / 'engine'), os.environ.get('PYTHONPATH', '')]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join(path))
    env.update(env_extra or {})
    cmd = [sys.executable, 'tools/train.py', str(config), '--deterministic', '--work-dir', str(work_dir),
           *extra, '--cfg-options', *_options(root)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_at(proc: subprocess.Popen, marker: Path, timeout: float = 300) -> None:
    """Wait until the run reports its stall point, then SIGKILL it."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f'the run ended (rc {proc.returncode}) before its kill point:\n{proc.stdout.read()[-4000:]}')
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f'no kill point within {timeout} s')
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def _finish(proc: subprocess.Popen, timeout: float = 300) -> None:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-4000:]


def _losses(work_dir: Path) -> dict:
    """{global iteration: loss} from every run (timestamp folder) in ``work_dir``, later runs overwriting."""
    losses = {}
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                losses[record['step']] = record['loss']
    return losses


def _val_metrics(work_dir: Path) -> list:
    records = [json.loads(line) for s in sorted(work_dir.glob('*/vis_data/scalars.json'))
               for line in s.read_text().splitlines()]
    return [{k: v for k, v in r.items() if k.startswith('coco/')} for r in records if 'coco/AP' in r]


@dataclass
class AfterKill:
    """What a killed run left in its work dir."""
    files: list
    last_checkpoint: str
    epoch_1: dict  # epoch_1.pth, loaded through the safe loader
    partial_sizes: dict  # .partial files -> their sizes


def _after_kill(work_dir: Path) -> AfterKill:
    return AfterKill(
        files=sorted(p.name for p in work_dir.iterdir() if p.is_file()),
        last_checkpoint=(work_dir / 'last_checkpoint').read_text(),
        epoch_1=load_checkpoint_safely(str(work_dir / 'epoch_1.pth')),
        partial_sizes={p.name: p.stat().st_size for p in work_dir.glob('.*.partial')})


@pytest.fixture(scope='module')
def reference(config, tiny_coco, tmp_path_factory) -> Path:
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    _finish(_train(config, tiny_coco, work_dir))
    return work_dir


@pytest.fixture(scope='module')
def killed_twice(config, tiny_coco, tmp_path_factory) -> dict:
    """Killed mid-epoch 2, resumed and killed mid-save of epoch_2.pth, resumed to the end."""
    work_dir = tmp_path_factory.mktemp('killed')
    marker = work_dir.parent / f'{work_dir.name}.marker'
    _kill_at(_train(config, tiny_coco, work_dir, env_extra=dict(KILL_POINT_MARKER=str(marker),
                                                        KILL_POINT_ITER=f'2:{KILL_BATCH}')), marker)
    mid_epoch = _after_kill(work_dir)
    losses_before_kill = _losses(work_dir)
    marker.unlink()
    _kill_at(_train(config, tiny_coco, work_dir, '--resume', env_extra=dict(KILL_POINT_MARKER=str(marker),
                                                                    KILL_POINT_SAVE='epoch_2.pth')), marker)
    mid_save = _after_kill(work_dir)
    _finish(_train(config, tiny_coco, work_dir, '--resume'))
    return dict(work_dir=work_dir, mid_epoch=mid_epoch, mid_save=mid_save, losses_before_kill=losses_before_kill)


def test_kill_mid_epoch_leaves_the_last_checkpoint_loadable(killed_twice):
    after = killed_twice['mid_epoch']
    assert after.last_checkpoint.endswith('epoch_1.pth') and 'epoch_2.pth' not in after.files, after.files
    assert after.epoch_1['meta']['epoch'] == 1 and after.epoch_1[RESUME_KEY]['batch_in_epoch'] == 0
    assert not after.partial_sizes


def test_kill_mid_save_keeps_the_previous_checkpoint(killed_twice, reference):
    after = killed_twice['mid_save']
    # the kill landed inside the write of epoch_2.pth: a partial file of half its size, the final name absent
    full_size = (reference / 'epoch_2.pth').stat().st_size
    (name, size), = after.partial_sizes.items()
    assert name.startswith('.epoch_2.pth.') and 0 < size < full_size, (name, size, full_size)
    assert 'epoch_2.pth' not in after.files
    # max_keep_ckpts=1, yet the previous checkpoint is still there, complete, and named by last_checkpoint
    assert after.last_checkpoint.endswith('epoch_1.pth')
    assert after.epoch_1['meta']['epoch'] == 1 and 'optimizer' in after.epoch_1


def test_resume_after_the_kills_removes_partial_files_and_keeps_one_checkpoint(killed_twice):
    work_dir = killed_twice['work_dir']
    assert not list(work_dir.glob('.*.partial'))
    assert sorted(p.name for p in work_dir.glob('epoch_*.pth')) == ['epoch_2.pth']
    assert (work_dir / 'last_checkpoint').read_text().endswith('epoch_2.pth')


def test_same_seed_same_loss_curve(killed_twice, reference):
    """Determinism: the killed run and the reference, same seed, same losses for every iteration both ran."""
    before_kill = killed_twice['losses_before_kill']
    assert sorted(before_kill) == list(range(1, ITERS_PER_EPOCH + KILL_BATCH + 1))
    ref = _losses(reference)
    assert {step: ref[step] for step in before_kill} == before_kill


def test_resumed_run_ends_bit_identical_to_the_uninterrupted_one(killed_twice, reference):
    work_dir = killed_twice['work_dir']
    assert _losses(work_dir) == _losses(reference)  # epoch 2 re-run after the resume included
    assert _val_metrics(work_dir)[-1] == _val_metrics(reference)[-1]
    resumed = load_checkpoint_safely(str(work_dir / 'epoch_2.pth'))
    uninterrupted = load_checkpoint_safely(str(reference / 'epoch_2.pth'))
    assert resumed['state_dict'].keys() == uninterrupted['state_dict'].keys()
    differing = [k for k, v in uninterrupted['state_dict'].items() if not torch.equal(v, resumed['state_dict'][k])]
    assert not differing, differing[:5]
    for group, ref_state in uninterrupted['optimizer']['state'].items():
        for key, value in ref_state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(resumed['optimizer']['state'][group][key]))
    assert torch.equal(resumed[RESUME_KEY]['rng']['torch'], uninterrupted[RESUME_KEY]['rng']['torch'])
