"""Registry scope: every config builds our classes (not mmpose's same-named ones); clear unknown-type errors."""
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS as MMPOSE_DATASETS
from mmpose.registry import METRICS as MMPOSE_METRICS
from mmpose.registry import MODELS as MMPOSE_MODELS

import pose_plugins  # noqa: F401
from pose_plugins.registry import DATASETS, KEYPOINT_CODECS, METRICS, MODELS

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
#: Configs that run mmpose's own training data path on purpose (to compare it with ours): their
#: ``GenerateTarget`` encodes with mmpose's codec, with the same arguments as the head's decoder (ours).
MMPOSE_DATA_PATH_CONFIGS = frozenset({'hrnet_tiny_synthetic_mmpose_data_path.py'})


def _types(node, path='cfg'):
    """Every (path, type) in a config tree."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield path, node['type']
        for key, value in node.items():
            yield from _types(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _types(value, f'{path}[{i}]')


def test_registries_are_children_of_mmpose_with_our_scope():
    assert {r.scope for r in (MODELS, KEYPOINT_CODECS, DATASETS, METRICS)} == {'pose_plugins'}
    assert MODELS.parent is MMPOSE_MODELS
    assert DATASETS.parent is MMPOSE_DATASETS and METRICS.parent is MMPOSE_METRICS
    assert 'RootRelativeMPJPE' in METRICS.module_dict
    assert {'HRNet', 'HeatmapHead', 'KeypointMSELoss', 'KeypointOHKMMSELoss'} <= set(MODELS.module_dict)
    assert 'MSRAHeatmap' in KEYPOINT_CODECS.module_dict
    # mmpose's own classes are untouched
    assert MMPOSE_MODELS.get('HRNet').__module__.startswith('mmpose.')


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_config_names_our_classes_with_prefix(config):
    cfg = Config.fromfile(str(config))
    assert cfg.default_scope == 'mmpose'
    ours = set(MODELS.module_dict) | set(KEYPOINT_CODECS.module_dict) | set(DATASETS.module_dict) | set(
        METRICS.module_dict)
    bad = [(path, t) for path, t in _types(cfg.to_dict()) if t in ours]
    if config.name in MMPOSE_DATA_PATH_CONFIGS:  # mmpose's codec in GenerateTarget, and nowhere else
        bad = [(path, t) for path, t in bad if not (t == 'MSRAHeatmap' and '.encoder' in path)]
    assert not bad, f'{config.name}: unprefixed references resolve to mmpose classes: {bad}'


@pytest.fixture(scope='module')
def smpl_file(tmp_path_factory):
    """A stand-in for the user's SMPL file that the full-size mesh config names: the synthetic mannequin's."""
    from pose_plugins.synthetic import write_synthetic_smpl
    return str(write_synthetic_smpl(tmp_path_factory.mktemp('smpl') / 'SMPL_NEUTRAL.npz'))


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_config_builds_our_classes_not_mmposes(config, smpl_file):
    cfg = Config.fromfile(str(config))
    body_model = cfg.model.head.get('body_model')
    if body_model is not None and body_model.get('model_path'):
        body_model.model_path = smpl_file
    init_default_scope('mmpose')
    model = MMPOSE_MODELS.build(cfg.model)
    for name in ('backbone', 'head'):
        module = getattr(model, name)
        assert type(module).__module__.startswith('pose_plugins.'), f'{config.name}: {name} is {type(module)}'
    decoder = getattr(model.head, 'decoder', None)  # None: a head that decodes itself (the SMPL regression head)
    assert decoder is not None or cfg.model.head.get('decoder') is None, f'{config.name}: the codec was not built'
    assert decoder is None or type(decoder).__module__.startswith('pose_plugins.'), type(decoder)
    ours = set(MODELS.module_dict)
    wrong = [f'{n}: {type(m)}' for n, m in model.named_modules()
             if type(m).__name__ in ours and not type(m).__module__.startswith('pose_plugins.')]
    assert not wrong, f'{config.name}: built mmpose classes where ours were meant: {wrong}'
    losses = [m for m in model.modules()
              if type(m).__name__.endswith('Loss') and not type(m).__module__.startswith('torch.')]
    assert losses and all(type(m).__module__.startswith('pose_plugins.') for m in losses), losses


@pytest.mark.parametrize('config', CONFIGS, ids=lambda p: str(p.relative_to(REPO / 'configs')))
def test_training_targets_come_from_the_heads_codec(config):
    """Whoever encodes the training targets (the fast data path's data preprocessor, or a GenerateTarget step)
    uses the codec the head decodes with: a config that replaces the codec must replace every copy (the CPN demo
    once rendered its _base_'s MSRA targets)."""
    cfg = Config.fromfile(str(config))
    decoder = cfg.model.head.get('decoder')
    encoders = [step['encoder'] for step in cfg.train_dataloader.dataset.pipeline if 'encoder' in step]
    encoders += [cfg.model.data_preprocessor['encoder']] if 'encoder' in cfg.model.get('data_preprocessor', {}) else []
    assert encoders or decoder is None, f'{config.name}: nothing encodes the training targets'
    if config.name in MMPOSE_DATA_PATH_CONFIGS:  # mmpose's class, the decoder's arguments
        assert all(e['type'] == 'MSRAHeatmap' for e in encoders), encoders
        encoders = [dict(e, type=decoder['type']) for e in encoders]
    assert all(e == decoder for e in encoders), f'{config.name}: encoders {encoders} != head decoder {decoder}'


def test_unknown_type_names_type_and_registry():
    init_default_scope('mmpose')
    with pytest.raises(KeyError, match=r'NoSuchNet.*pose_plugins'):
        MMPOSE_MODELS.build(dict(type='pose_plugins.NoSuchNet'))


def test_scoped_names_work_without_custom_imports():
    """mmengine imports pose_plugins on the first `pose_plugins.X` lookup, so custom_imports is optional."""
    code = (
        'from mmengine.registry import init_default_scope\n'
        'from mmpose.registry import MODELS\n'
        'init_default_scope("mmpose")\n'
        'import sys; assert "pose_plugins" not in sys.modules\n'
        'loss = MODELS.build(dict(type="pose_plugins.KeypointMSELoss", use_target_weight=True))\n'
        'print(type(loss).__module__)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().startswith('pose_plugins.models.losses')
