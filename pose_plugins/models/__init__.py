"""Models registered in :data:`pose_plugins.registry.MODELS` (scope ``pose_plugins``)."""
from . import backbones, heads, layers, losses
from .data_preprocessors import TopdownTargetDataPreprocessor  # noqa: F401
from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403

__all__ = backbones.__all__ + heads.__all__ + losses.__all__ + ['layers']
