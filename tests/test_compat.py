"""pose_plugins.compat: safe checkpoint loading, CPU distributed set-up, torchvision shim."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from pose_plugins import compat


class _RunsCode:
    """Pickles to a call of ``os.system``: what a malicious checkpoint looks like."""

    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null',))


class _GetattrEscape:
    """Pickles ``getattr(numpy.ndarray, 'tofile')``: getattr on something other than HistoryBuffer."""

    def __reduce__(self):
        return (getattr, (np.ndarray, 'tofile'))


def _mmengine_style_checkpoint() -> dict:
    hub = MessageHub.get_instance('test_compat_hub')
    hub.update_scalar('train/loss', np.float32(0.25))
    hub.update_scalar('train/lr', 1e-3)
    hub.update_info('iter', np.int64(7))
    return {
        'meta': {'epoch': 1, 'iter': 7, 'seed': np.int64(42), 'hist': np.arange(3.0)},
        'state_dict': {'w': torch.ones(2, 2)},
        'message_hub': hub.state_dict(),
    }


def test_installed_as_mmengine_local_loader():
    assert compat._torch_version() >= (2, 6)
    assert CheckpointLoader._schemes[''] is compat.load_checkpoint_safely


def test_plain_torch_load_refuses_mmengine_checkpoint(tmp_path):
    """The problem compat solves: torch's default loader rejects mmengine's message hub."""
    path = tmp_path / 'epoch_1.pth'
    torch.save(_mmengine_style_checkpoint(), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_mmengine_checkpoint_loads_through_mmengine(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    torch.save(_mmengine_style_checkpoint(), path)
    ckpt = _load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2, 2))
    assert ckpt['meta']['seed'] == 42 and ckpt['meta']['hist'].tolist() == [0.0, 1.0, 2.0]
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.25)
    assert buffer.current() == pytest.approx(0.25)


def test_weights_only_stays_the_default_elsewhere(tmp_path):
    """Loading is not made unsafe for the process: plain torch.load still refuses numpy objects."""
    path = tmp_path / 'meta.pth'
    torch.save({'seed': np.int64(1)}, path)
    compat.load_checkpoint_safely(str(path))  # our loader admits it ...
    with pytest.raises(pickle.UnpicklingError):  # ... and torch.load alone still does not afterwards
        torch.load(path)
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ


@pytest.mark.parametrize('payload', [_RunsCode(), _GetattrEscape()], ids=['os.system', 'getattr-ndarray'])
def test_malicious_checkpoint_is_refused(tmp_path, payload):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'meta': payload}, path)
    with pytest.raises(compat.UnsafeCheckpointError, match=r'refusing to load checkpoint .*evil\.pth'):
        _load_checkpoint(str(path), map_location='cpu')


def test_malicious_checkpoint_does_not_run(tmp_path):
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'

    class Touch:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))

    torch.save({'x': Touch()}, evil)
    with pytest.raises(compat.UnsafeCheckpointError):
        compat.load_checkpoint_safely(str(evil))
    assert not marker.exists()


def test_missing_checkpoint_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.load_checkpoint_safely(str(tmp_path / 'nope.pth'))


def test_setup_cpu_distributed_is_noop_without_launcher():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert compat.setup_cpu_distributed(cfg, 'none') is False
    assert cfg.env_cfg.dist_cfg.backend == 'nccl' and 'model_wrapper_cfg' not in cfg


def test_setup_cpu_distributed_single_process(monkeypatch):
    """One-process gloo group: the config gets gloo and DDP with device_ids=None."""
    import torch.distributed as dist
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29631')
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('LOCAL_RANK', '0')
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))))
    try:
        assert compat.setup_cpu_distributed(cfg, 'pytorch') is True
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
        assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', device_ids=None)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_torchvision_shim_lets_mmpose_visualizer_import():
    code = textwrap.dedent("""
        import importlib.util, sys
        assert importlib.util.find_spec('torchvision') is None or 'torchvision' in sys.modules
        import pose_plugins
        from mmpose.visualization import PoseLocalVisualizer  # imports torchvision.transforms.ToPILImage
        import torch
        from torchvision.transforms import ToPILImage
        image = ToPILImage()(torch.zeros(3, 4, 5))
        assert image.size == (5, 4), image.size
        print('ok', getattr(sys.modules['torchvision'], '__pose_plugins_shim__', False))
    """)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().startswith('ok')


def test_torchvision_shim_does_nothing_when_present(monkeypatch):
    import types
    fake = types.ModuleType('torchvision')
    monkeypatch.setitem(sys.modules, 'torchvision', fake)
    assert compat.install_torchvision_shim() is False
    assert sys.modules['torchvision'] is fake
