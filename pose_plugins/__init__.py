"""pose_plugins: classic top-down pose estimation models for OpenMMLab (mmpose 1.x).

Importing the package installs the small compatibility adapters of :mod:`pose_plugins.compat` (before mmpose's
visualizer can be imported) and registers every codec, model, dataset and metric under the ``pose_plugins`` scope.
"""
from . import compat

compat.install()

from . import codecs, datasets, evaluation, models  # noqa: E402  (registration needs compat installed first)
from .registry import DATASETS, KEYPOINT_CODECS, METRICS, MODELS  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ['__version__', 'MODELS', 'KEYPOINT_CODECS', 'DATASETS', 'METRICS', 'codecs', 'datasets', 'evaluation',
           'models', 'compat']
