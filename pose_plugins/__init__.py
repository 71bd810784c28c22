"""pose_plugins: classic top-down pose estimation models for OpenMMLab (mmpose 1.x).

Importing the package installs the small compatibility adapters of :mod:`pose_plugins.compat` (the torchvision
stand-in's finder, when the start-up hook has not already; the safe checkpoint loader) and registers every codec,
model, dataset and metric under the ``pose_plugins`` scope. What that changes in a process, and when each change is
a no-op, is listed in the README section "What importing pose_plugins changes in a process".
"""
from . import compat

compat.install()

from . import codecs, datasets, evaluation, models  # noqa: E402  (registration needs compat installed first)
from .registry import DATASETS, KEYPOINT_CODECS, METRICS, MODELS  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'MODELS', 'KEYPOINT_CODECS', 'DATASETS', 'METRICS', 'codecs', 'datasets', 'evaluation',
           'models', 'compat']
