from .heatmap_head import HeatmapHead
from .stacked_heatmap_head import StackedHeatmapHead

__all__ = ['HeatmapHead', 'StackedHeatmapHead']
