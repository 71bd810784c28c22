"""Top-down heads, registered in :data:`pose_plugins.registry.MODELS`.

A new head subclasses :class:`BasePoseHead` (``base_pose_head.py``: it says what to define).
"""
from .base_pose_head import BasePoseHead
from .cpn_head import CPNHead
from .heatmap_head import HeatmapHead
from .integral_regression_head import IntegralRegressionHead
from .mesh_regression_head import MeshRegressionHead
from .stacked_heatmap_head import StackedHeatmapHead

__all__ = ['BasePoseHead', 'CPNHead', 'HeatmapHead', 'IntegralRegressionHead', 'MeshRegressionHead',
           'StackedHeatmapHead']
