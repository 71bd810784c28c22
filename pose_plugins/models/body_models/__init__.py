"""The SMPL body model layer (on ``smplx``), its safe model-file loader and the synthetic SMPL-format mannequin."""
from .model_file import load_smpl_model_file, save_smpl_model_file
from .smpl import SMPL
from .smpl_format import COCO_KEYPOINT_SOURCES, SMPL_JOINT_NAMES, SMPL_PARENTS
from .synthetic_smpl import make_synthetic_smpl, write_synthetic_smpl

__all__ = [
    'SMPL', 'load_smpl_model_file', 'save_smpl_model_file', 'make_synthetic_smpl', 'write_synthetic_smpl',
    'COCO_KEYPOINT_SOURCES', 'SMPL_JOINT_NAMES', 'SMPL_PARENTS'
]
