"""Metrics registered in :data:`pose_plugins.registry.METRICS`."""

__all__: list = []
