"""Keypoint codecs, registered in :data:`pose_plugins.registry.KEYPOINT_CODECS`."""
from .blur_heatmap import CPNBlurHeatmap
from .msra_heatmap import MSRAHeatmap

__all__ = ['CPNBlurHeatmap', 'MSRAHeatmap']
