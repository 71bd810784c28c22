"""Data preprocessors registered in :data:`pose_plugins.registry.MODELS` (scope ``pose_plugins``)."""
from .topdown_target_data_preprocessor import TopdownTargetDataPreprocessor

__all__ = ['TopdownTargetDataPreprocessor']
