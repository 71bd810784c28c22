"""Synthetic COCO-format people (tests, demo, benchmarks) and the COCO-style 3D keypoint dataset; no third-party
data is shipped."""
from .coco_keypoint_3d_dataset import CocoKeypoint3DDataset
from .synthetic import SyntheticCocoConfig, make_synthetic_coco

__all__ = ['CocoKeypoint3DDataset', 'SyntheticCocoConfig', 'make_synthetic_coco']
