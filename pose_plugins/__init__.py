"""pose_plugins: classic top-down pose estimation models for OpenMMLab (mmpose 1.x).

Importing the package installs the small compatibility adapters of :mod:`pose_plugins.compat` (the torchvision
stand-in's finder, when the start-up hook has not already; the safe checkpoint loader) and registers every codec,
model, dataset and metric under the ``pose_plugins`` scope. What that changes in a process, and when each change is
a no-op: docs/installation.md.
"""
from . import compat

compat.install()

from . import body_models, codecs, datasets, evaluation, models  # noqa: E402  (registers; needs compat installed)
from .registry import DATASETS, KEYPOINT_CODECS, METRICS, MODELS  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'MODELS', 'KEYPOINT_CODECS', 'DATASETS', 'METRICS', 'body_models', 'codecs', 'datasets',
           'evaluation', 'models', 'compat']
