"""pose_plugins.cli: mmpose's tool flags become config; user files are never overwritten."""
import pytest
import torch

from conftest import DEMO_CONFIG
from pose_plugins import cli


def _train(argv):
    return cli.prepare_train_config(cli.parse_train_args([str(DEMO_CONFIG), *argv]))


def test_defaults_and_work_dir(tmp_path):
    cfg = _train(['--work-dir', str(tmp_path / 'w')])
    assert cfg.work_dir == str(tmp_path / 'w') and cfg.launcher == 'none' and not cfg.get('resume', False)
    assert _train([]).work_dir.endswith('work_dirs/hrnet_tiny_synthetic')


def test_cfg_options_resume_and_validation_flags(tmp_path):
    ckpt = tmp_path / 'epoch_3.pth'
    torch.save(dict(state_dict={}), ckpt)  # --resume checks that the checkpoint reads
    cfg = _train(['--work-dir', str(tmp_path), '--resume', str(ckpt), '--no-validate', '--auto-scale-lr',
                  '--cfg-options', 'train_cfg.max_epochs=3', 'optim_wrapper.optimizer.lr=0.1'])
    assert cfg.resume is True and cfg.load_from == str(ckpt)
    assert cfg.val_cfg is None and cfg.val_dataloader is None and cfg.val_evaluator is None
    assert cfg.auto_scale_lr.enable is True
    assert cfg.train_cfg.max_epochs == 3 and cfg.optim_wrapper.optimizer.lr == 0.1
    auto = _train(['--work-dir', str(tmp_path), '--resume'])
    assert auto.resume is True and auto.load_from is None


def test_existing_checkpoints_are_never_trained_over(tmp_path):
    (tmp_path / 'epoch_1.pth').write_bytes(b'precious')
    with pytest.raises(cli.WorkDirNotEmptyError, match=r'epoch_1\.pth.*--resume'):
        _train(['--work-dir', str(tmp_path)])
    assert (tmp_path / 'epoch_1.pth').read_bytes() == b'precious'


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.py'):
        cli.prepare_train_config(cli.parse_train_args([str(tmp_path / 'nope.py')]))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        _train(['--work-dir', str(tmp_path), '--resume', str(tmp_path / 'missing.pth')])
    with pytest.raises(FileNotFoundError, match='gone.pth'):
        cli.prepare_test_config(cli.parse_test_args([str(DEMO_CONFIG), str(tmp_path / 'gone.pth')]))


def test_amp_without_accelerator_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match='--amp'):
        _train(['--work-dir', str(tmp_path), '--amp'])


def test_test_outputs_are_never_overwritten(tmp_path):
    ckpt = tmp_path / 'm.pth'
    ckpt.write_bytes(b'x')
    (tmp_path / 'metrics.json').write_text('{}')
    with pytest.raises(FileExistsError, match='metrics.json'):
        cli.prepare_test_config(cli.parse_test_args([str(DEMO_CONFIG), str(ckpt), '--out',
                                                     str(tmp_path / 'metrics.json')]))
    cfg = cli.prepare_test_config(cli.parse_test_args([str(DEMO_CONFIG), str(ckpt), '--dump',
                                                       str(tmp_path / 'preds.pkl')]))
    assert cfg.load_from == str(ckpt)
    assert cfg.test_evaluator[-1] == dict(type='DumpResults', out_file_path=str(tmp_path / 'preds.pkl'))


HOLD_LOCK = ('import sys, time; from pose_plugins.cli import lock_work_dir; lock_work_dir(sys.argv[1]); '
             'print("locked", flush=True); time.sleep(300)')


def test_one_run_per_work_dir_and_kill_9_leaves_no_stale_lock(tmp_path, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    from conftest import REPO
    monkeypatch.delenv('RANK', raising=False)
    holder = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    try:
        assert holder.stdout.readline().strip() == 'locked'
        with pytest.raises(cli.WorkDirLockedError, match=rf'{tmp_path} is in use by another training run \(PID '
                                                           rf'{holder.pid} on \S+, started \d{{4}}-\d\d-\d\dT'):
            cli.lock_work_dir(str(tmp_path))
        # the other ranks of a distributed run share the work dir: only the launch's rank 0 takes the lock
        monkeypatch.setenv('RANK', '1')
        assert cli.lock_work_dir(str(tmp_path), 'pytorch') is None
        with pytest.raises(cli.WorkDirLockedError):
            cli.lock_work_dir(str(tmp_path), 'none')  # without a launcher RANK means nothing: rank 0
        monkeypatch.setenv('RANK', '0')
        with pytest.raises(cli.WorkDirLockedError):
            cli.lock_work_dir(str(tmp_path), 'pytorch')
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert holder.returncode == -signal.SIGKILL
    lock = cli.lock_work_dir(str(tmp_path))  # the kernel released the killed holder's lock
    try:
        assert f'"pid": {os.getpid()}' in (tmp_path / '.train.lock').read_text()
    finally:
        lock.release()
        cli._held_locks.remove(lock)
    cli.WorkDirLock(str(tmp_path)).release()  # released: free again


def test_resume_of_an_unreadable_checkpoint_names_it_and_an_intact_older_one(tmp_path):
    torch.save(dict(state_dict={}), tmp_path / 'epoch_2.pth')
    torch.save(dict(state_dict={}), tmp_path / 'epoch_3.pth')
    (tmp_path / 'epoch_4.pth').write_bytes(b'PK\x03\x04 cut short')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_4.pth'))
    with pytest.raises(cli.UsageError, match=r'epoch_4\.pth \(named by .*last_checkpoint\): .* it is truncated.* '
                                             r'Resume from epoch_3\.pth instead'):
        _train(['--work-dir', str(tmp_path), '--resume'])
    (tmp_path / 'epoch_3.pth').write_bytes(b'')
    with pytest.raises(cli.UsageError, match=r'epoch_3\.pth cannot be read: the file is empty.*Resume from '
                                             r'epoch_2\.pth instead'):
        _train(['--work-dir', str(tmp_path), '--resume', str(tmp_path / 'epoch_3.pth')])
    (tmp_path / 'epoch_2.pth').write_text('hello')
    with pytest.raises(cli.UsageError, match=r'holds no intact checkpoint to resume from: pass --resume PATH'):
        _train(['--work-dir', str(tmp_path), '--resume'])
