"""Body models of mesh recovery (:class:`BodyModel`): SMPL (on ``smplx``, the user's file; its safe model-file loader
and joint tables) and Anny (the ``anny`` package)."""
from .model_file import load_smpl_model_file, save_smpl_model_file
from .smpl import SMPL
from .anny_body import AnnyBody
from .body_model import BodyModel
from .mean_params import NEUTRAL_CAMERA, load_mean_params
from .smpl_format import COCO_KEYPOINT_SOURCES, SMPL_FLIP_INDICES, SMPL_JOINT_NAMES, SMPL_PARENTS

__all__ = [
    'SMPL', 'AnnyBody', 'load_smpl_model_file', 'save_smpl_model_file',
    'COCO_KEYPOINT_SOURCES', 'SMPL_FLIP_INDICES', 'SMPL_JOINT_NAMES', 'SMPL_PARENTS', 'NEUTRAL_CAMERA', 'BodyModel',
    'load_mean_params'
]
