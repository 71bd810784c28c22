"""pose_plugins.compat: safe checkpoint loading, CPU distributed set-up, the torchvision stand-in and its
start-up hook (``_pose_plugins_startup``, installed as ``pose_plugins_startup.pth``)."""
import json
import os
import pickle
import site
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

import _pose_plugins_startup as startup
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


def test_setup_cpu_distributed_slurm_without_gpu(monkeypatch):
    """--launcher slurm on a CPU node: Slurm's variables become torch's, and gloo starts (mmengine's own slurm
    set-up would call torch.cuda.set_device and fail)."""
    import torch.distributed as dist
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.setenv(name, '')  # recorded, so the values the code sets are undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv('SLURM_PROCID', '0')
    monkeypatch.setenv('SLURM_NTASKS', '1')
    monkeypatch.setenv('SLURM_LOCALID', '0')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')  # instead of scontrol, which this machine lacks
    monkeypatch.setenv('MASTER_PORT', '29632')
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    try:
        assert compat.setup_cpu_distributed(cfg, 'slurm') is True
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert (os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['LOCAL_RANK']) == ('0', '1', '0')
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_slurm_launcher_names_the_missing_variable(monkeypatch):
    for name in ('RANK', 'SLURM_PROCID'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(KeyError, match='SLURM_PROCID'):
        compat._slurm_env_to_torch_env(dict(os.environ))


# --------------------------------------------------------------------------------------------------------------
# torchvision stand-in and the start-up hook
# --------------------------------------------------------------------------------------------------------------
REPO = Path(__file__).resolve().parents[1]
STAND_IN = "0.0+pose_plugins.stand_in"


def _fresh_python(code: str, cwd: Path, env: Optional[dict] = None, timeout: int = 300,
                  args: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Run ``code`` (or, with ``args``, a script) in a new interpreter of this Python, as a user would start it."""
    environ = {k: v for k, v in os.environ.items() if k != startup.ENV_SWITCH}
    environ.update(env or {})
    command = [sys.executable, *args] if args else [sys.executable, '-c', textwrap.dedent(code)]
    return subprocess.run(command, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout)


def test_startup_hook_is_installed_in_site_packages():
    """The install put pose_plugins_startup.pth in site-packages, and it loads the hook beside our package."""
    sites = [*site.getsitepackages(), site.getusersitepackages()]
    found = [Path(d, 'pose_plugins_startup.pth') for d in sites if Path(d, 'pose_plugins_startup.pth').is_file()]
    assert found, f'pose_plugins_startup.pth is in none of {sites}: reinstall with bash scripts/setup.sh'
    assert "__import__('_pose_plugins_startup').install()" in found[0].read_text()
    assert Path(startup.__file__).resolve().parent == Path(compat.__file__).resolve().parents[1]
    assert startup.TorchvisionStandInFinder in sys.meta_path


def test_startup_hook_is_cheap_and_last(tmp_path):
    """At start-up the hook loads itself only (no torch, numpy, mmpose, pose_plugins) and asks last."""
    out = _fresh_python("""
        import json, sys
        names = ('_pose_plugins_startup', 'torch', 'numpy', 'mmpose', 'pose_plugins', 'torchvision')
        print(json.dumps({'loaded': {n: n in sys.modules for n in names}, 'last': sys.meta_path[-1].__name__}))
    """, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {'loaded': {'_pose_plugins_startup': True, 'torch': False, 'numpy': False, 'mmpose': False,
                                 'pose_plugins': False, 'torchvision': False},
                      'last': 'TorchvisionStandInFinder'}


def test_mmpose_inferencer_imports_in_a_fresh_interpreter(tmp_path):
    """mmpose's documented call, without importing pose_plugins first."""
    out = _fresh_python("""
        import sys
        from mmpose.apis import MMPoseInferencer
        import torchvision
        print('pose_plugins imported:', 'pose_plugins' in sys.modules, '| torchvision', torchvision.__version__)
    """, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == f'pose_plugins imported: False | torchvision {STAND_IN}'


def test_mmpose_inferencer_import_fails_with_the_hook_switched_off(tmp_path):
    """What the hook fixes: with POSE_PLUGINS_TORCHVISION_STAND_IN=0 mmpose's import fails as without us."""
    out = _fresh_python('from mmpose.apis import MMPoseInferencer', tmp_path, env={startup.ENV_SWITCH: '0'})
    assert out.returncode != 0
    assert "No module named 'torchvision'" in out.stderr, out.stderr[-2000:]


def test_stand_in_lets_mmpose_visualizer_import_after_importing_us(tmp_path):
    out = _fresh_python("""
        import sys
        import pose_plugins
        from mmpose.visualization import PoseLocalVisualizer  # imports torchvision.transforms.ToPILImage
        import torch
        from torchvision.transforms import ToPILImage
        image = ToPILImage()(torch.zeros(3, 4, 5))
        assert image.size == (5, 4), image.size
        print('ok', getattr(sys.modules['torchvision'], '__pose_plugins_stand_in__', False))
    """, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == 'ok True'


def _stand_in_torchvision():
    import torchvision
    if not startup.is_stand_in(torchvision):
        pytest.skip(f'a real torchvision {torchvision.__version__} is installed: the stand-in is not used')
    return torchvision


def test_stand_in_says_what_it_is():
    torchvision = _stand_in_torchvision()
    assert torchvision.__version__ == STAND_IN == startup.STAND_IN_VERSION
    assert Path(torchvision.__file__).resolve().parent == Path(startup.STAND_IN_DIR, 'torchvision').resolve()
    assert compat.install_torchvision_stand_in() is True
    with pytest.raises(AttributeError, match=r"pose_plugins' stand-in .*install torchvision for torchvision\.models"):
        torchvision.models  # noqa: B018
    with pytest.raises(ModuleNotFoundError, match=r"torchvision\.models"):
        import torchvision.models  # noqa: F401


def test_mmengine_environment_log_shows_the_stand_in():
    """mmengine's collect_env (the Runner's "Environment" log block) parses and prints the stand-in's version."""
    from mmengine.runner.checkpoint import get_torchvision_models
    from mmengine.utils.dl_utils import collect_env
    _stand_in_torchvision()
    assert collect_env()['TorchVision'] == STAND_IN
    # 'torchvision://' checkpoints parse the version, then need torchvision.models: the error names the stand-in
    with pytest.raises(AttributeError, match="pose_plugins' stand-in"):
        get_torchvision_models()


@pytest.mark.parametrize('pic, size, mode', [
    (torch.full((3, 4, 5), 0.5), (5, 4), 'RGB'),  # float CHW in [0, 1]
    (np.zeros((4, 5, 3), dtype=np.uint8), (5, 4), 'RGB'),  # HWC array
    (torch.zeros(1, 4, 5, dtype=torch.uint8), (5, 4), 'L'),  # one channel -> greyscale
], ids=['float-tensor', 'hwc-array', 'one-channel'])
def test_stand_in_to_pil_image(pic, size, mode):
    from torchvision.transforms import ToPILImage
    _stand_in_torchvision()
    image = ToPILImage()(pic)
    assert (image.size, image.mode) == (size, mode)
    if isinstance(pic, torch.Tensor) and pic.is_floating_point():
        assert image.getpixel((0, 0)) == (128, 128, 128)  # round(0.5 * 255)


def test_hook_does_nothing_when_torchvision_is_installed(tmp_path):
    """A torchvision on the path (here a fake one) wins: the stand-in finder is never asked."""
    fake = tmp_path / 'site' / 'torchvision'
    fake.mkdir(parents=True)
    (fake / '__init__.py').write_text("__version__ = '9.9.9+fake'\nfrom . import transforms\n")
    (fake / 'transforms.py').write_text('class ToPILImage:\n    pass\n')
    out = _fresh_python("""
        import sys
        import _pose_plugins_startup as startup
        assert startup.TorchvisionStandInFinder in sys.meta_path  # the hook ran ...
        asked = []  # it is asked about every module nobody else finds; record the torchvision ones
        startup.TorchvisionStandInFinder.find_spec = classmethod(
            lambda cls, name, *a: asked.append(name) if name.split('.')[0] == 'torchvision' else None)
        import pose_plugins
        from pose_plugins import compat
        from mmpose.visualization import PoseLocalVisualizer
        import torchvision
        print(torchvision.__version__, compat.install_torchvision_stand_in(), asked)  # ... and is never asked
    """, tmp_path, env={'PYTHONPATH': str(tmp_path / 'site')})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == '9.9.9+fake False []'


def test_install_torchvision_stand_in_leaves_an_imported_torchvision_alone(monkeypatch):
    import types
    fake = types.ModuleType('torchvision')
    monkeypatch.setitem(sys.modules, 'torchvision', fake)
    assert compat.install_torchvision_stand_in() is False
    assert sys.modules['torchvision'] is fake


@pytest.mark.slow
def test_mmpose_train_tool_runs_our_demo_config_without_importing_us_first(tmp_path):
    """mmpose's own tools/train.py (shipped in its wheel) on our HRNet demo config without ``custom_imports``.

    mmengine's Runner builds mmpose's visualizer (which imports torchvision) before the model, whose
    ``pose_plugins.`` types import us only then; so this needs the start-up hook. One epoch of one batch.
    """
    from mmpose import __file__ as mmpose_init

    from pose_plugins.synthetic import SyntheticCocoConfig, make_synthetic_coco
    train_tool = Path(mmpose_init).parent / '.mim' / 'tools' / 'train.py'
    assert train_tool.is_file(), f'mmpose 1.3.2 ships tools/train.py in its wheel as {train_tool}'
    data = make_synthetic_coco(tmp_path / 'data', num_train_images=2, num_val_images=1, seed=0,
                               config=SyntheticCocoConfig(image_size=(96, 128), person_height=(64.0, 110.0),
                                                          people_per_image=(1, 1)))
    root = data['data_root'] + '/'
    config = tmp_path / 'hrnet_tiny_no_custom_imports.py'
    config.write_text(textwrap.dedent(f"""
        _base_ = [{str(REPO / 'configs' / 'demo' / 'hrnet_tiny_synthetic.py')!r}]
        custom_imports = dict(imports=[], allow_failed_imports=False)  # nothing imports pose_plugins up front
        train_cfg = dict(max_epochs=1, val_interval=100)
        loader = dict(num_workers=0, persistent_workers=False)
        train_dataloader = dict(batch_size=2, **loader, dataset=dict(data_root={root!r}))
        val_dataloader = dict(batch_size=2, **loader, dataset=dict(
            data_root={root!r}, bbox_file={data['val_bbox_file']!r}))
        test_dataloader = val_dataloader
        val_evaluator = dict(ann_file={data['val_ann_file']!r})
        test_evaluator = val_evaluator
    """))
    out = _fresh_python('', tmp_path, args=[str(train_tool), str(config), '--work-dir', str(tmp_path / 'work')])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    log = out.stdout + out.stderr
    assert f'TorchVision: {STAND_IN}' in log  # mmengine's environment log names the stand-in
    assert 'Epoch(train) [1][1/1]' in log and (tmp_path / 'work' / 'epoch_1.pth').is_file()


def test_quiet_known_messages_drops_exactly_the_known_third_party_messages():
    import logging
    import warnings

    from mmengine.logging import MMLogger, print_log
    from mmengine.registry import FUNCTIONS, DefaultScope
    metainfo = ('The metainfo config file "configs/_base_/datasets/coco.py" does not exist. A matched config file '
                '"/x/site-packages/mmpose/.mim/configs/_base_/datasets/coco.py" will be used instead.')
    with warnings.catch_warnings(record=True) as seen:
        warnings.resetwarnings()
        warnings.simplefilter('always')
        with compat.quiet_known_messages():
            warnings.warn_explicit(metainfo, UserWarning, 'utils.py', 102, module='mmpose.datasets.datasets.utils')
            warnings.warn_explicit('pkg_resources is deprecated as an API. See ...', UserWarning, 'package_utils.py',
                                   48, module='mmengine.utils.package_utils')
            warnings.warn_explicit('pkg_resources is deprecated as an API', UserWarning, 'a.py', 1, module='user.code')
            warnings.warn_explicit('another warning', UserWarning, 'utils.py', 103,
                                   module='mmpose.datasets.datasets.utils')
        warnings.warn_explicit(metainfo, UserWarning, 'utils.py', 102, module='mmpose.datasets.datasets.utils')
    assert [str(w.message) for w in seen] == ['pkg_resources is deprecated as an API', 'another warning', metainfo]

    class Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    kept = Keep()
    logger.addHandler(kept)
    try:
        DefaultScope.get_instance('test_quiet_known_messages', scope_name='mmpose')
        with compat.quiet_known_messages():
            with FUNCTIONS.switch_scope_and_registry('mmpose') as registry:
                assert registry.get('pseudo_collate') is not None
            print_log('our own warning', logger='current', level=logging.WARNING)
        with FUNCTIONS.switch_scope_and_registry('mmpose') as registry:  # the control: outside, it is logged
            registry.get('pseudo_collate')
    finally:
        logger.removeHandler(kept)
    assert kept.messages[0] == 'our own warning' and len(kept.messages) == 2
    assert kept.messages[1].startswith('Failed to search registry with scope "mmpose" in the "function" registry')
