"""Evaluation metrics, registered in :data:`pose_plugins.registry.METRICS` (scope ``pose_plugins``)."""
from .metrics import *  # noqa: F401,F403
from .metrics import __all__  # noqa: F401
