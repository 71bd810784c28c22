"""Synthetic COCO-format people (tests, demo, benchmarks); no third-party data is shipped."""
from .synthetic import SyntheticCocoConfig, make_synthetic_coco

__all__ = ['SyntheticCocoConfig', 'make_synthetic_coco']
