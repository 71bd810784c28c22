"""Keypoint codecs, registered in :data:`pose_plugins.registry.KEYPOINT_CODECS`."""
from .msra_heatmap import MSRAHeatmap

__all__ = ['MSRAHeatmap']
