from .cpn_head import CPNHead
from .heatmap_head import HeatmapHead
from .stacked_heatmap_head import StackedHeatmapHead

__all__ = ['CPNHead', 'HeatmapHead', 'StackedHeatmapHead']
