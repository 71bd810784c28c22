"""Configs for comparing ours with mmpose: a config on mmpose's own classes and data path, and a config reading a
synthetic COCO-format set (the benchmarks' inputs)."""
import copy
from typing import Any, Optional

from mmengine.config import Config

from pose_plugins.cli import load_config

__all__ = ['mmpose_equivalent', 'synthetic_train_config']


def _strip_scope(value: Any) -> Any:
    """A config value with every ``pose_plugins.X`` type renamed to mmpose's ``X`` (recursively)."""
    if isinstance(value, dict):
        value = {k: _strip_scope(v) for k, v in value.items()}
        if isinstance(value.get('type'), str):
            value['type'] = value['type'].removeprefix('pose_plugins.')
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_strip_scope(v) for v in value)
    return value


def mmpose_equivalent(cfg: Config) -> Config:
    """The same config with mmpose's components: our model classes -> mmpose's same-named ones (same
    arguments), ``CocoKeypointDataset`` -> ``CocoDataset``, and mmpose's data path: ``PoseDataPreprocessor``
    and a train pipeline ending ``GenerateTarget(encoder=codec)`` + ``PackPoseInputs`` with mmpose's transforms.
    Only for configs whose classes all have an mmpose namesake (the demo and the HRNet / SimpleBaseline ones)."""
    cfg = Config(copy.deepcopy(cfg.to_dict()))
    preprocessor = dict(cfg.model.data_preprocessor)
    preprocessor.pop('encoder', None)
    preprocessor['type'] = 'PoseDataPreprocessor'
    cfg.model = _strip_scope(dict(cfg.model, data_preprocessor=preprocessor))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if loader in cfg:
            cfg[loader]['dataset']['type'] = 'CocoDataset'
    pipeline = [step for step in _strip_scope(cfg.train_dataloader.dataset.pipeline)
                if step['type'] not in ('PackTopdownInputs', 'GenerateTarget', 'PackPoseInputs')]
    cfg.train_dataloader.dataset.pipeline = pipeline + [dict(type='GenerateTarget', encoder=_strip_scope(cfg.codec)),
                                                        dict(type='PackPoseInputs')]
    return cfg


def synthetic_train_config(path: str, data_root: Optional[str] = None) -> Config:
    """Our config, its loaders pointed at a synthetic set's train split (GT boxes) when ``data_root`` is given."""
    cfg = load_config(path)
    if data_root is not None:
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[loader]['dataset'].update(data_root=data_root, ann_file='annotations/person_keypoints_train2017.json',
                                          data_prefix=dict(img='train2017/'), bbox_file=None, test_mode=False)
    return cfg
