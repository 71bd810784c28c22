"""pose_plugins.cli: mmpose's tool flags become config; user files are never overwritten."""
import pytest

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
    ckpt.write_bytes(b'x')
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
