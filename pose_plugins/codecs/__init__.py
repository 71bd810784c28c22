"""Keypoint codecs, registered in :data:`pose_plugins.registry.KEYPOINT_CODECS`."""
from .base_heatmap_codec import BaseHeatmapCodec
from .blur_heatmap import CPNBlurHeatmap
from .integral_regression_label import IntegralRegressionLabel
from .msra_heatmap import MSRAHeatmap

__all__ = ['BaseHeatmapCodec', 'CPNBlurHeatmap', 'IntegralRegressionLabel', 'MSRAHeatmap']
