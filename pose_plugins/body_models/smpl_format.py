"""SMPL's model-file format and skeleton: sizes, joint names and tree, and COCO's 17 keypoints on the mesh.

Facts of SMPL (Loper et al., "SMPL: A Skinned Multi-Person Linear Model", SIGGRAPH Asia 2015,
https://smpl.is.tue.mpg.de) as its model files and the ``smplx`` package (https://github.com/vchoutas/smplx) use
them; the synthetic mannequin of :mod:`pose_plugins.synthetic` follows all of them too.

Note:
    - V: 6890 vertices; F: 13776 triangles; J: 24 joints; P: 207 = 23 * 9 pose-corrective coefficients;
      S: shape coefficients (10 in SMPL 1.0, 300 in SMPL 1.1)
"""
from typing import Dict, Tuple

from smplx.vertex_ids import vertex_ids as _SMPLX_VERTEX_IDS

__all__ = [
    'SMPL_NUM_VERTICES', 'SMPL_NUM_FACES', 'SMPL_NUM_JOINTS', 'SMPL_NUM_BODY_JOINTS', 'SMPL_NUM_POSE_BASIS',
    'SMPL_MIN_BETAS', 'SMPL_JOINT_NAMES', 'SMPL_PARENTS', 'SMPL_FIELDS', 'SMPL_FACE_VERTEX_IDS',
    'COCO_KEYPOINT_NAMES', 'COCO_KEYPOINT_SOURCES', 'SMPL_FLIP_INDICES'
]

SMPL_NUM_VERTICES = 6890
SMPL_NUM_FACES = 13776
SMPL_NUM_JOINTS = 24
SMPL_NUM_BODY_JOINTS = SMPL_NUM_JOINTS - 1  # all but the root (pelvis), whose rotation is the global orientation
SMPL_NUM_POSE_BASIS = SMPL_NUM_BODY_JOINTS * 9
SMPL_MIN_BETAS = 10

# SMPL's joint order; "left" is the person's left (+x in SMPL's model frame: y up, the body faces +z).
SMPL_JOINT_NAMES: Tuple[str, ...] = (
    'pelvis', 'left_hip', 'right_hip', 'spine1', 'left_knee', 'right_knee', 'spine2', 'left_ankle', 'right_ankle',
    'spine3', 'left_foot', 'right_foot', 'neck', 'left_collar', 'right_collar', 'head', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hand', 'right_hand')
# Mirror partner of each joint (left_X <-> right_X): the flip augmentation and the flip test swap them.
SMPL_FLIP_INDICES: Tuple[int, ...] = tuple(
    SMPL_JOINT_NAMES.index(name.replace('left_', '@').replace('right_', 'left_').replace('@', 'right_'))
    for name in SMPL_JOINT_NAMES)
# kintree_table[0] of SMPL's files (the root's parent, stored there as 2**32 - 1, written -1 here).
SMPL_PARENTS: Tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

# The fields a SMPL model file must hold and their shapes (None: at least SMPL_MIN_BETAS shape directions).
SMPL_FIELDS: Dict[str, Tuple] = {
    'v_template': (SMPL_NUM_VERTICES, 3),
    'shapedirs': (SMPL_NUM_VERTICES, 3, None),
    'posedirs': (SMPL_NUM_VERTICES, 3, SMPL_NUM_POSE_BASIS),
    'J_regressor': (SMPL_NUM_JOINTS, SMPL_NUM_VERTICES),
    'weights': (SMPL_NUM_VERTICES, SMPL_NUM_JOINTS),
    'kintree_table': (2, SMPL_NUM_JOINTS),
    'f': (SMPL_NUM_FACES, 3),
}

# The face vertices smplx (``smplx.vertex_ids.vertex_ids['smplh']``, shared by SMPL and SMPL+H) selects as the
# OpenPose/COCO face keypoints; SPIN and mmpose 0.x's SMPL wrapper take the same ones.
SMPL_FACE_VERTEX_IDS: Dict[str, int] = {
    name: int(_SMPLX_VERTEX_IDS['smplh'][key])
    for name, key in (('nose', 'nose'), ('left_eye', 'leye'), ('right_eye', 'reye'), ('left_ear', 'lear'),
                      ('right_ear', 'rear'))
}

COCO_KEYPOINT_NAMES: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
    'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
    'right_ankle')
# COCO's 17 keypoints on the posed mesh: ('vertex', id) for the face, ('joint', SMPL joint of the same name) for
# the body. SMPL's joints are rotation centres, not COCO's annotated points (its hips are closer together); SPIN
# regresses COCO-like joints with ``J_regressor_extra.npy`` instead (not shipped).
COCO_KEYPOINT_SOURCES: Tuple[Tuple[str, str, int], ...] = tuple(
    (name, 'vertex', SMPL_FACE_VERTEX_IDS[name]) if name in SMPL_FACE_VERTEX_IDS else
    (name, 'joint', SMPL_JOINT_NAMES.index(name)) for name in COCO_KEYPOINT_NAMES)
