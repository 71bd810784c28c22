"""Synthetic COCO-format people (tests, demo, benchmarks), the checked COCO keypoint dataset and the COCO-style 3D
keypoint dataset; no third-party data is shipped."""
from .coco_keypoint_3d_dataset import CocoKeypoint3DDataset
from .coco_keypoint_dataset import CocoKeypointDataset
from .coco_mesh_dataset import CocoMeshDataset  # noqa: F401  (mesh recovery, with GenerateMeshTarget)
from .synthetic import SyntheticCocoConfig, make_synthetic_coco
from . import transforms  # noqa: F401,E402  (registers the fast-path and mesh transforms)

__all__ = ['CocoKeypoint3DDataset', 'CocoKeypointDataset', 'SyntheticCocoConfig', 'make_synthetic_coco']
