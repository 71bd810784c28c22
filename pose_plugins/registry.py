"""pose_plugins' registries: children of mmpose's under the scope ``pose_plugins``.

Our classes that share a name with mmpose's (``HRNet``, ``HeatmapHead`` ...) are named with the scope in configs,
``type='pose_plugins.HRNet'``; an unscoped name still means mmpose's class.
"""
from mmengine.registry import Registry
from mmpose.registry import DATASETS as MMPOSE_DATASETS
from mmpose.registry import HOOKS as MMPOSE_HOOKS
from mmpose.registry import KEYPOINT_CODECS as MMPOSE_KEYPOINT_CODECS
from mmpose.registry import METRICS as MMPOSE_METRICS
from mmpose.registry import MODELS as MMPOSE_MODELS
from mmpose.registry import TRANSFORMS as MMPOSE_TRANSFORMS

__all__ = ['MODELS', 'KEYPOINT_CODECS', 'DATASETS', 'METRICS', 'HOOKS', 'TRANSFORMS']

MODELS = Registry(
    'model', parent=MMPOSE_MODELS, scope='pose_plugins', locations=['pose_plugins.models', 'pose_plugins.body_models'])
KEYPOINT_CODECS = Registry(
    'KEYPOINT_CODECS', parent=MMPOSE_KEYPOINT_CODECS, scope='pose_plugins',
    locations=['pose_plugins.codecs'])
DATASETS = Registry(
    'dataset', parent=MMPOSE_DATASETS, scope='pose_plugins', locations=['pose_plugins.datasets'])
METRICS = Registry(
    'metric', parent=MMPOSE_METRICS, scope='pose_plugins', locations=['pose_plugins.evaluation'])
HOOKS = Registry(
    'hook', parent=MMPOSE_HOOKS, scope='pose_plugins', locations=['pose_plugins.engine'])
TRANSFORMS = Registry(
    'transform', parent=MMPOSE_TRANSFORMS, scope='pose_plugins', locations=['pose_plugins.datasets.transforms'])
