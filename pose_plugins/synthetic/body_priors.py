"""What the synthetic mesh people draw per body model: joint-angle ranges, shape ranges, stature and the body-part
colour groups, as tables keyed by the body model's joint and shape names (:data:`BODY_PRIORS`).

Note:
    J: the body model's posed joints; S: its shape parameters; n: the rotation components of one joint's prior.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Optional, Tuple

import numpy as np

from pose_plugins.body_models.body_model import BodyModel

__all__ = ['BodyPrior', 'BODY_PRIORS', 'SMPL_POSE_PRIOR', 'ANNY_POSE_PRIOR', 'ANNY_SHAPE_PRIOR']

Range = Tuple[float, float]
Component = Tuple[Tuple[float, float, float], Range]
_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
_MIRROR = np.array([1.0, -1.0, -1.0])  # axis-angle mirrored across the plane x = 0 (x: the body's left-right axis)


def _xyz(x: Range, y: Range, z: Range) -> Tuple[Component, ...]:
    """Ranges (degrees) of the axis-angle's x, y and z components."""
    return (_X, x), (_Y, y), (_Z, z)


def _unit(*axis: float) -> Tuple[float, float, float]:
    norm = float(np.linalg.norm(axis))
    return tuple(float(a) / norm for a in axis)  # type: ignore[return-value]


# SMPL's frame (y up, facing +z, x the body's left; T-pose at 0). x: forward bend of the spine and neck (+), hip
# flexion (-), knee flexion (+); y: twist about the vertical, left elbow flexion (-, the arms along x); z: side
# bend, left arm raise (+). Insertion order is the draw order (kept: the same seed gives the same SMPL people).
SMPL_POSE_PRIOR: Mapping[str, Tuple[Component, ...]] = MappingProxyType({
    'left_hip': _xyz((-70, 20), (-20, 20), (-5, 25)), 'left_knee': _xyz((0, 100), (0, 0), (0, 0)),
    'left_ankle': _xyz((-20, 20), (-10, 10), (-10, 10)), 'left_foot': _xyz((-5, 5), (0, 0), (0, 0)),
    'spine1': _xyz((-5, 15), (-10, 10), (-7, 7)), 'spine2': _xyz((-5, 15), (-10, 10), (-7, 7)),
    'spine3': _xyz((-5, 15), (-10, 10), (-7, 7)), 'neck': _xyz((-10, 20), (-20, 20), (-10, 10)),
    'head': _xyz((-10, 10), (-25, 25), (-10, 10)), 'left_collar': _xyz((0, 0), (-5, 5), (-10, 10)),
    'left_shoulder': _xyz((-30, 30), (-60, 40), (-75, 30)), 'left_elbow': _xyz((0, 0), (-130, 0), (0, 0)),
    'left_wrist': _xyz((-20, 20), (-20, 20), (-20, 20)), 'left_hand': _xyz((-10, 10), (-10, 10), (-10, 10))})

# Anny's rig in its reference pose (identity deltas: an A-pose, upper arms ~48 degrees below the horizontal, elbows
# bent ~42 degrees with the forearms forward), 'local-ref' deltas in the model frame (z up, facing -y, x the body's
# left). x: forward bend of the spine, neck and head (+), hip flexion (-), knee flexion (+), toes down (+), arm
# raised forwards (-); y: side bend (+ towards the left), hip and arm abduction of the left limbs (-); z: twist
# about the vertical. The elbow flexes about the normal of the reference upper arm and forearm, the forearm twists
# about its own axis (both from the reference bone positions). Spine and neck ranges are a whole bend's, shared out.
_ELBOW_FLEXION = _unit(-0.74, -0.04, -0.67)  # upper arm x forearm: + bends the elbow further
_FOREARM = _unit(0.51, -0.68, -0.52)  # elbow -> wrist
ANNY_POSE_PRIOR: Mapping[str, Tuple[Component, ...]] = MappingProxyType({
    'upperleg01.L': _xyz((-75, 20), (-25, 8), (-20, 20)), 'lowerleg01.L': _xyz((0, 100), (0, 0), (0, 0)),
    'foot.L': _xyz((-20, 25), (-10, 10), (-10, 10)),
    **{f'spine0{i}': _xyz((-3, 9), (-6, 6), (-6, 6)) for i in (5, 4, 3, 2, 1)},
    **{f'neck0{i}': _xyz((-4, 7), (-4, 4), (-7, 7)) for i in (1, 2, 3)},
    'head': _xyz((-10, 15), (-10, 10), (-25, 25)),
    'clavicle.L': _xyz((0, 0), (-15, 5), (-10, 10)), 'shoulder01.L': _xyz((-5, 5), (-5, 5), (-5, 5)),
    'upperarm01.L': _xyz((-80, 35), (-110, 30), (-35, 35)),
    'lowerarm01.L': ((_ELBOW_FLEXION, (-35, 100)), (_FOREARM, (-30, 30))),
    'wrist.L': _xyz((-20, 20), (-20, 20), (-20, 20))})
# Phenotypes (0.5 neutral): gender 0 male, 1 female; age 1/3 a child, 0.5 a teenager, 2/3 a young adult, 1 an
# elder; height: about 1 m of stature per unit; the others look caricatural at their extremes. These ranges give
# statures of 1.4-2.2 m (5th-95th percentile 1.5-2.1 m).
ANNY_SHAPE_PRIOR: Mapping[str, Range] = MappingProxyType({
    'gender': (0.0, 1.0), 'age': (0.5, 1.0), 'muscle': (0.1, 0.9), 'weight': (0.1, 0.9), 'height': (0.25, 0.75),
    'proportions': (0.1, 0.9)})


@dataclass(frozen=True, kw_only=True)
class BodyPrior:
    """The people one body model gives: pose and shape distributions, stature and colour groups.

    Args:
        annotation_name (str): The body model's name in the annotations (``BodyModel.name`` of the model built).
        description (str): What the body is, for the annotation file's info.
        pose (Mapping): Per left or central joint name, its rotation components ``((axis (3,), (low, high)
            degrees)), ...)``: the axis-angle (model frame) is ``sum(angle * axis)``, each angle ~ U(low, high);
            a left joint's mirror partner draws its own angles and mirrors the result (``(x, -y, -z)``).
            Joints not named stay at rest; the root is the global orientation, drawn by the generator.
        shape (Mapping, optional): Per shape name its range ``(low, high)``: ``neutral + shape_std * (U(low, high)
            - neutral)``, clamped to the model's ``shape_range``. None: ``N(neutral, shape_std^2)`` clipped at
            ``shape_clip`` standard deviations (SMPL's betas).
        shape_clip (float): See ``shape``.
        stature_m (float, optional): The standing height (m) a person's ``person_height`` pixels stand for; None:
            each body's own (its rest mesh's extent along the up axis), so that everyone is ``person_height`` tall.
        skin, shirt, sleeves, trousers, shoes (Tuple[str, ...]): The joints whose vertices take each colour
            (``sleeves``: the shirt's or the skin's); ``head``: the joint whose back is hair and front skin.
        hairline_m (float, optional): The hair ends this far (m) below the ears (COCO's ear keypoints at rest);
            None: the whole back of the head is hair.
    """

    annotation_name: str
    description: str
    pose: Mapping[str, Tuple[Component, ...]]
    shape: Optional[Mapping[str, Range]]
    stature_m: Optional[float]
    skin: Tuple[str, ...]
    shirt: Tuple[str, ...]
    sleeves: Tuple[str, ...]
    trousers: Tuple[str, ...]
    shoes: Tuple[str, ...]
    head: str
    hairline_m: Optional[float] = None
    shape_clip: float = 2.5

    def check(self, body: BodyModel) -> None:
        """ValueError naming the table and the joint or shape names of it that ``body`` lacks."""
        names = dict(pose=tuple(self.pose), skin=self.skin, shirt=self.shirt, sleeves=self.sleeves,
                     trousers=self.trousers, shoes=self.shoes, head=(self.head, ))
        for table, joints in names.items():
            missing = [name for name in joints if name not in body.joint_names]
            if missing:
                raise ValueError(f'BodyPrior {self.annotation_name!r}: {table} names joints {missing} that '
                                 f'{type(body).__name__} lacks; its joints: {list(body.joint_names)}')
        if self.shape is not None and tuple(self.shape) != tuple(body.shape_names):
            raise ValueError(f'BodyPrior {self.annotation_name!r}: shape names {list(self.shape)} differ from '
                             f'{type(body).__name__}.shape_names {list(body.shape_names)}')

    def sample_pose(self, rng: np.random.Generator, body: BodyModel, *, scale: float = 1.0) -> np.ndarray:
        """(J, 3) axis-angle radians in the model frame, the root's zero; ``scale`` multiplies every range."""
        pose = np.zeros((body.num_joints, 3))
        for name, components in self.pose.items():
            axes = np.array([axis for axis, _ in components], dtype=np.float64)  # (n, 3)
            low, high = np.array([bounds for _, bounds in components], dtype=np.float64).T * scale
            joint = body.joint_names.index(name)
            pose[joint] = np.deg2rad(rng.uniform(low, high)) @ axes
            partner = body.flip_indices[joint]
            if partner != joint:
                pose[partner] = (np.deg2rad(rng.uniform(low, high)) @ axes) * _MIRROR
        return pose

    def sample_shape(self, rng: np.random.Generator, body: BodyModel, *, std: float = 1.0) -> np.ndarray:
        """(S,) shape parameters; ``std`` 0 gives the neutral shape."""
        neutral = np.asarray(body.neutral_shape, dtype=np.float64)
        if self.shape is None:
            clip = self.shape_clip * max(std, 1e-9)
            return neutral + np.clip(rng.normal(0.0, 1.0, size=body.num_shape) * std, -clip, clip)
        low, high = np.array(list(self.shape.values()), dtype=np.float64).T
        shape = neutral + std * (rng.uniform(low, high) - neutral)
        return shape if body.shape_range is None else np.clip(shape, *body.shape_range)


BODY_PRIORS: Mapping[str, BodyPrior] = MappingProxyType({
    'synthetic_smpl': BodyPrior(
        annotation_name='smpl', description='the synthetic SMPL-format mannequin (pose_plugins.synthetic.'
        'SyntheticSMPL; SMPL\'s parameter layout, NOT SMPL)', pose=SMPL_POSE_PRIOR, shape=None,
        stature_m=1.7,  # the mannequin's nominal stature (its seed varies it ~2%): SMPL people as before
        skin=('neck', 'head', 'left_wrist', 'right_wrist', 'left_hand', 'right_hand'),
        shirt=('pelvis', 'spine1', 'spine2', 'spine3', 'left_collar', 'right_collar', 'left_shoulder',
               'right_shoulder'),
        sleeves=('left_elbow', 'right_elbow'), trousers=('left_hip', 'right_hip', 'left_knee', 'right_knee'),
        shoes=('left_ankle', 'right_ankle', 'left_foot', 'right_foot'), head='head'),
    'anny': BodyPrior(
        annotation_name='anny', description='Anny (the anny package, NAVER LABS; phenotype shape parameters and '
        'local-ref bone rotations; NOT SMPL)', pose=ANNY_POSE_PRIOR, shape=ANNY_SHAPE_PRIOR, stature_m=None,
        skin=('neck01', 'neck02', 'neck03', 'head', 'wrist.L', 'wrist.R'),
        shirt=('spine04', 'spine03', 'spine02', 'spine01', 'clavicle.L', 'clavicle.R', 'shoulder01.L',
               'shoulder01.R', 'upperarm01.L', 'upperarm01.R'),
        sleeves=('lowerarm01.L', 'lowerarm01.R'),
        # root: the buttocks, spine05: the crotch (Anny's skinning), so that the trousers reach the waist
        trousers=('root', 'spine05', 'upperleg01.L', 'upperleg01.R', 'lowerleg01.L', 'lowerleg01.R'),
        shoes=('foot.L', 'foot.R'), head='head',
        hairline_m=0.03),  # Anny's head bone also moves the throat and the nape: skin below the hairline
})
