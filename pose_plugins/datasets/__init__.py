"""COCO keypoint, 3D keypoint and mesh datasets, and their transforms."""
from .coco_keypoint_3d_dataset import CocoKeypoint3DDataset
from .coco_keypoint_dataset import CocoKeypointDataset
from .coco_mesh_dataset import CocoMeshDataset
from . import transforms  # noqa: F401,E402  (registers the fast-path and mesh transforms)

__all__ = ['CocoKeypoint3DDataset', 'CocoKeypointDataset', 'CocoMeshDataset']
