"""The SMPL body model layer (on ``smplx``), its safe model-file loader and SMPL's joint tables."""
from .model_file import load_smpl_model_file, save_smpl_model_file
from .smpl import SMPL
from .mean_params import NEUTRAL_MEAN_PARAMS, load_mean_params
from .smpl_format import COCO_KEYPOINT_SOURCES, SMPL_FLIP_INDICES, SMPL_JOINT_NAMES, SMPL_PARENTS

__all__ = [
    'SMPL', 'load_smpl_model_file', 'save_smpl_model_file',
    'COCO_KEYPOINT_SOURCES', 'SMPL_FLIP_INDICES', 'SMPL_JOINT_NAMES', 'SMPL_PARENTS', 'NEUTRAL_MEAN_PARAMS',
    'load_mean_params'
]
