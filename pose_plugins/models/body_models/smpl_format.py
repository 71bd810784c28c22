"""SMPL's model-file format and skeleton: sizes, joint names and tree, and COCO's 17 keypoints on the mesh.

Facts of SMPL (Loper et al., "SMPL: A Skinned Multi-Person Linear Model", SIGGRAPH Asia 2015,
https://smpl.is.tue.mpg.de) as its model files and the ``smplx`` package (https://github.com/vchoutas/smplx) use
them; the synthetic model of :mod:`.synthetic_smpl` follows all of them too.

Note:
    - V: 6890 vertices; F: 13776 triangles; J: 24 joints; P: 207 = 23 * 9 pose-corrective coefficients;
      S: shape coefficients (10 in SMPL 1.0, 300 in SMPL 1.1)
"""
from typing import Dict, Tuple

from smplx.vertex_ids import vertex_ids as _SMPLX_VERTEX_IDS

__all__ = [
    'SMPL_NUM_VERTICES', 'SMPL_NUM_FACES', 'SMPL_NUM_JOINTS', 'SMPL_NUM_BODY_JOINTS', 'SMPL_NUM_POSE_BASIS',
    'SMPL_MIN_BETAS', 'SMPL_JOINT_NAMES', 'SMPL_PARENTS', 'SMPL_FIELDS', 'SMPL_FACE_VERTEX_IDS',
    'COCO_KEYPOINT_NAMES', 'COCO_KEYPOINT_SOURCES'
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

# COCO's 17 keypoints (in COCO's order) from the posed mesh: ('vertex', id) for the face (the ids above: nose 332,
# left eye 2800, right eye 6260, left ear 583, right ear 4071), ('joint', SMPL joint) for the body. The body
# keypoints are SMPL's joints, rotation centres inside the body, not the points COCO's annotators click: SMPL's
# hips are the femoral heads, closer together than COCO's hip keypoints. SPIN regresses COCO-like joints with an
# extra regressor instead (``J_regressor_extra.npy``, not shipped here).
COCO_KEYPOINT_NAMES: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
    'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
    'right_ankle')
# COCO's body keypoints have the names of SMPL joints: shoulders 16/17, elbows 18/19, wrists 20/21, hips 1/2,
# knees 4/5, ankles 7/8.
COCO_KEYPOINT_SOURCES: Tuple[Tuple[str, str, int], ...] = tuple(
    (name, 'vertex', SMPL_FACE_VERTEX_IDS[name]) if name in SMPL_FACE_VERTEX_IDS else
    (name, 'joint', SMPL_JOINT_NAMES.index(name)) for name in COCO_KEYPOINT_NAMES)
