from .cpn_head import CPNHead
from .heatmap_head import HeatmapHead
from .integral_regression_head import IntegralRegressionHead
from .stacked_heatmap_head import StackedHeatmapHead

__all__ = ['CPNHead', 'HeatmapHead', 'IntegralRegressionHead', 'StackedHeatmapHead']
