"""Top-down fast-path and mesh transforms; configs name them ``pose_plugins.X``."""
from .pack_topdown_inputs import PackTopdownInputs
from .random_bbox_transform import RandomBBoxTransform
from .topdown_affine import TopdownAffine
from .topdown_affine_matrix import TopdownAffineMatrix
from .mesh_transforms import GenerateMeshTarget  # noqa: F401  (mesh recovery)

__all__ = ['PackTopdownInputs', 'RandomBBoxTransform', 'TopdownAffine', 'TopdownAffineMatrix']
