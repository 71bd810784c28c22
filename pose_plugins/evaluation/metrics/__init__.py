"""Metrics registered in :data:`pose_plugins.registry.METRICS`."""
from .mesh_metric import MeshMetric
from .root_relative_mpjpe import RootRelativeMPJPE

__all__ = ['RootRelativeMPJPE', 'MeshMetric']
