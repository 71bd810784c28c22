"""Synthetic mesh people: SMPL-format bodies (default: the synthetic mannequin, NOT SMPL) posed from a prior,
z-buffered into the 2D people's scenes (background, occluders, noise, JPEG) with SMPL ground truth per person.

- Prior: betas ~ N(0, ``shape_std``^2) clipped at 2.5 std; rotations uniform in :data:`POSE_PRIOR`, the right side
  mirroring its own draw; facing the camera, turned by yaw, tilt and roll; ``Z = f * 1.7 m / person_height``.
- Faces coloured by body part (left and right alike), Lambert-shaded; ``joint_pads`` adds joint-type pads.
- Annotations (:class:`pose_plugins.datasets.CocoMeshDataset`): :func:`~.annotations.person_annotation`'s fields,
  ``keypoints_3d`` (K * 3, camera frame, mm), ``smpl_pose`` (72, axis-angle, root in the camera frame),
  ``smpl_betas`` (10), ``has_smpl`` (1), ``smpl_transl`` (3, m); ``camera_param`` per image.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from types import MappingProxyType
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

from pose_plugins.geometry import (axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_rotation_6d,
                                   rotation_6d_to_matrix)
from pose_plugins.body_models import COCO_KEYPOINT_SOURCES
from pose_plugins.visualization.mesh_drawing import draw_meshes, shade_faces
from .config import SyntheticCocoConfig
from .drawing import JOINT_TYPE_COLOURS, KEYPOINT_JOINT_TYPES, draw_background, draw_occluder
from .geometry import box_iou, in_image, pinhole_camera
from .annotations import person_annotation
from .synthetic_smpl import SyntheticSMPL

__all__ = ['SyntheticMeshConfig', 'POSE_PRIOR', 'sample_smpl_parameters', 'render_mesh_image', 'mean_smpl_parameters',
           'joint_pad_types']

# Uniform ranges (degrees) of the axis-angle (x, y, z) of the left and central joints in SMPL's frame (T-pose at 0).
POSE_PRIOR: Mapping[int, Tuple[Tuple[float, float], ...]] = MappingProxyType({
    1: ((-70, 20), (-20, 20), (-5, 25)), 4: ((0, 100), (0, 0), (0, 0)), 7: ((-20, 20), (-10, 10), (-10, 10)),
    10: ((-5, 5), (0, 0), (0, 0)), 3: ((-5, 15), (-10, 10), (-7, 7)), 6: ((-5, 15), (-10, 10), (-7, 7)),
    9: ((-5, 15), (-10, 10), (-7, 7)), 12: ((-10, 20), (-20, 20), (-10, 10)), 15: ((-10, 10), (-25, 25), (-10, 10)),
    13: ((0, 0), (-5, 5), (-10, 10)), 16: ((-30, 30), (-60, 40), (-75, 30)), 18: ((0, 0), (-130, 0), (0, 0)),
    20: ((-20, 20), (-20, 20), (-20, 20)), 22: ((-10, 10), (-10, 10), (-10, 10))})
_RIGHT_OF = {1: 2, 4: 5, 7: 8, 10: 11, 13: 14, 16: 17, 18: 19, 20: 21, 22: 23}
_BODY_HEIGHT_M = 1.7
_BETA_CLIP = 2.5
# Body-part colour groups by SMPL joint (each vertex belongs to the joint of its largest skinning weight).
_SKIN_JOINTS, _SHIRT_JOINTS = (12, 15, 20, 21, 22, 23), (0, 3, 6, 9, 13, 14, 16, 17)
_SLEEVE_JOINTS, _TROUSER_JOINTS, _SHOE_JOINTS = (18, 19), (1, 2, 4, 5), (7, 8, 10, 11)
_SKIN_TONES = np.array([(60, 80, 120), (80, 110, 160), (100, 140, 200), (140, 180, 230), (170, 205, 240)],
                       dtype=np.float64)
_PAD_RADIUS_M, _EYE_RADIUS_M, _EYE_TYPE = 0.08, 0.018, -2
_EYE_COLOUR = np.array([20.0, 20.0, 20.0])


@dataclass(frozen=True)
class SyntheticMeshConfig:
    """Generation options of the synthetic mesh people (frozen; ``dataclasses.replace`` makes variants).

    Args:
        coco (SyntheticCocoConfig): Options shared with the 2D people (image, placement, occluders, noise, JPEG,
            ``focal_length``, ``rotation_range`` as roll). Defaults to ``SyntheticCocoConfig(rotation_range=15)``.
        pose_scale (float): Factor on the ranges of :data:`POSE_PRIOR`; 0 gives the T-pose.
        yaw_range (float): Maximum absolute turn about the vertical, degrees (180: any direction).
        tilt_range (float): Maximum absolute tilt towards / away from the camera, degrees.
        shape_std (float): Standard deviation of the betas.
        body_model_seed (int): Seed of the synthetic body model.
        joint_pads (bool): Joint-type pads and dark eyes (:func:`joint_pad_types`); draws no random number.
    """

    coco: SyntheticCocoConfig = SyntheticCocoConfig(rotation_range=15.0)
    pose_scale: float = 1.0
    yaw_range: float = 45.0
    tilt_range: float = 10.0
    shape_std: float = 1.0
    body_model_seed: int = 0
    joint_pads: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.coco, SyntheticCocoConfig):
            raise ValueError(f'SyntheticMeshConfig.coco must be a SyntheticCocoConfig, got {self.coco!r}')
        if not isinstance(self.joint_pads, bool):
            raise ValueError(f'SyntheticMeshConfig.joint_pads must be True or False, got {self.joint_pads!r}')
        for name, low, high in (('pose_scale', 0.0, 2.0), ('yaw_range', 0.0, 180.0), ('tilt_range', 0.0, 90.0),
                                ('shape_std', 0.0, 3.0)):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError(f'SyntheticMeshConfig.{name} must be in [{low}, {high}], got {value!r}')

    @classmethod
    def from_options(cls, options: Mapping) -> 'SyntheticMeshConfig':
        """From a flat dict of this class's and :class:`SyntheticCocoConfig`'s fields; ValueError on unknown names."""
        own = {f.name for f in dataclasses.fields(cls)} - {'coco'}
        shared = {f.name for f in dataclasses.fields(SyntheticCocoConfig)}
        unknown = sorted(set(options) - own - shared)
        if unknown:
            raise ValueError(f'SyntheticMeshConfig: unknown options {unknown}; allowed: {sorted(own | shared)}')
        coco = dict(dict(rotation_range=15.0), **{k: v for k, v in options.items() if k in shared})
        coco = {k: tuple(v) if isinstance(v, list) else v for k, v in coco.items()}
        return cls(coco=SyntheticCocoConfig(**coco), **{k: v for k, v in options.items() if k in own})


@functools.lru_cache(maxsize=2)
def _body(seed: int):
    """The body model of ``seed`` (built once per process) and each vertex's colour group."""
    body = SyntheticSMPL(seed=seed).eval()
    part = body.lbs_weights.argmax(dim=1).numpy()
    front_of_head = (part == 15) & (body.v_template[:, 2].numpy() > body.v_template[part == 15, 2].mean().item())
    return body, part, front_of_head


def _turn(axis: int, degrees: float) -> np.ndarray:
    """Rotation matrix (3, 3) of ``degrees`` about coordinate ``axis``."""
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = [k for k in range(3) if k != axis]
    m = np.eye(3)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def sample_smpl_parameters(rng: np.random.Generator, cfg: SyntheticMeshConfig) -> Dict[str, np.ndarray]:
    """One person's SMPL parameters from the prior (module docstring).

    Returns:
        dict: ``pose`` (24, 3) axis-angle (radians; row 0 the global orientation in the camera frame),
        ``betas`` (10, ), ``yaw`` () degrees (|yaw| > 90: turned away).
    """
    pose = np.zeros((24, 3))
    for joint, ranges in POSE_PRIOR.items():
        low, high = np.array(ranges, dtype=np.float64).T * cfg.pose_scale
        pose[joint] = np.deg2rad(rng.uniform(low, high))
        if joint in _RIGHT_OF:
            pose[_RIGHT_OF[joint]] = np.deg2rad(rng.uniform(low, high)) * np.array([1.0, -1.0, -1.0])
    betas = np.clip(rng.normal(0.0, 1.0, size=10) * cfg.shape_std, -_BETA_CLIP * max(cfg.shape_std, 1e-9),
                    _BETA_CLIP * max(cfg.shape_std, 1e-9))
    yaw = rng.uniform(-cfg.yaw_range, cfg.yaw_range)
    tilt = rng.uniform(-cfg.tilt_range, cfg.tilt_range)
    roll = rng.uniform(-cfg.coco.rotation_range, cfg.coco.rotation_range)
    orient = _turn(2, roll) @ _turn(0, tilt) @ _turn(1, yaw) @ _turn(0, 180.0)
    pose[0] = matrix_to_axis_angle(torch.from_numpy(orient)).numpy()
    return dict(pose=pose, betas=betas, yaw=np.asarray(yaw))


def _pose_bodies(params: List[Dict[str, np.ndarray]], seed: int) -> Dict[str, np.ndarray]:
    """Body model on a list of parameter sets: ``vertices`` (P, V, 3), ``joints`` (P, 24, 3), ``keypoints``
    (P, 17, 3), metres, model frame turned by the global orientation."""
    body, _, _ = _body(seed)
    rotmat = axis_angle_to_matrix(torch.as_tensor(np.stack([p['pose'] for p in params]), dtype=torch.float32))
    with torch.no_grad():
        out = body(betas=torch.as_tensor(np.stack([p['betas'] for p in params]), dtype=torch.float32),
                   body_pose=rotmat[:, 1:], global_orient=rotmat[:, :1])
    return {key: value.double().numpy() for key, value in out.items()}


def _place(rng: np.random.Generator, cfg: SyntheticMeshConfig, placed: np.ndarray) -> Optional[Dict]:
    """Sample a person and a position until it fits; ``None`` after ``placement_tries``."""
    coco = cfg.coco
    focal, centre = pinhole_camera(coco)
    size = np.asarray(coco.image_size, dtype=np.float64)
    for _ in range(coco.placement_tries):
        params = sample_smpl_parameters(rng, cfg)
        height = rng.uniform(*coco.person_height)
        truncate = bool(rng.random() < coco.truncation_prob)
        body = {key: value[0] for key, value in _pose_bodies([params], cfg.body_model_seed).items()}
        depth = focal[0] * _BODY_HEIGHT_M / height
        margin = 0.0 if truncate else 0.3 * height
        pelvis_pixel = rng.uniform(margin, size - margin) if np.all(size > 2 * margin) else size / 2
        root = body['joints'][0]
        transl = np.array([(pelvis_pixel[0] - centre[0]) * depth / focal[0],
                           (pelvis_pixel[1] - centre[1]) * depth / focal[1], depth]) - root
        vertices = body['vertices'] + transl
        pixels = vertices[:, :2] / vertices[:, 2:] * focal + centre
        keypoints_3d = body['keypoints'] + transl
        keypoints = keypoints_3d[:, :2] / keypoints_3d[:, 2:] * focal + centre
        box = np.concatenate([pixels.min(0), pixels.max(0)])
        if np.count_nonzero(in_image(keypoints, coco.image_size)) < coco.min_keypoints_in_image:
            continue
        if len(placed) and box_iou(box, placed).max() > coco.max_overlap:
            continue
        return dict(params=params, transl=transl, vertices=vertices, pixels=pixels, keypoints=keypoints,
                    keypoints_3d=keypoints_3d, box=box, height=height, back_facing=abs(float(params['yaw'])) > 90.0)
    return None


@functools.lru_cache(maxsize=2)
def joint_pad_types(seed: int = 0) -> np.ndarray:
    """Read-only (V, ) int per vertex of the body of ``seed``: the joint type (``JOINT_TYPE_COLOURS`` index) within
    8 cm of a limb joint in the rest pose, -2 for an eye, -1 for none."""
    body, _, _ = _body(seed)
    vertices = body.v_template.double().numpy()
    joints = body.J_regressor.double().numpy() @ vertices
    types = np.full(len(vertices), -1)
    eyes = []
    for keypoint, (name, kind, index) in enumerate(COCO_KEYPOINT_SOURCES):
        if kind == 'joint':  # the first keypoint in COCO's order wins
            near = np.linalg.norm(vertices - joints[index], axis=1) < _PAD_RADIUS_M
            types[near & (types < 0)] = KEYPOINT_JOINT_TYPES[keypoint]
        elif name.endswith('_eye'):
            eyes.append(index)
    for eye in eyes:
        types[np.linalg.norm(vertices - vertices[eye], axis=1) < _EYE_RADIUS_M] = _EYE_TYPE
    types.setflags(write=False)
    return types


def _face_colours(rng: np.random.Generator, faces: np.ndarray, seed: int, joint_pads: bool = False) -> np.ndarray:
    """Per-face BGR colours (F, 3): clothing, skin, hair, and with ``joint_pads`` the pads and eyes."""
    _, part, front_of_head = _body(seed)
    skin = np.clip(_SKIN_TONES[rng.integers(len(_SKIN_TONES))] + rng.uniform(-12, 12, size=3), 0, 255)
    shirt, trousers = rng.uniform(20.0, 235.0, size=(2, 3))
    sleeve = shirt if rng.random() < 0.5 else skin
    hair, shoes = rng.uniform(10.0, 90.0, size=(2, 3))
    vertex_colour = np.zeros((len(part), 3))
    for joints, colour in ((_SKIN_JOINTS, skin), (_SHIRT_JOINTS, shirt), (_SLEEVE_JOINTS, sleeve),
                           (_TROUSER_JOINTS, trousers), (_SHOE_JOINTS, shoes)):
        vertex_colour[np.isin(part, joints)] = colour
    vertex_colour[(part == 15) & ~front_of_head] = hair
    if joint_pads:
        types = joint_pad_types(seed)
        padded = types >= 0
        vertex_colour[padded] = JOINT_TYPE_COLOURS[types[padded]]
        vertex_colour[types == _EYE_TYPE] = _EYE_COLOUR
    return vertex_colour[faces[:, 0]]


def render_mesh_image(rng: np.random.Generator, cfg: Optional[SyntheticMeshConfig] = None
                      ) -> Tuple[np.ndarray, List[Dict]]:
    """Render one image of mesh people and their COCO mesh annotations.

    Note:
        K keypoints (17, COCO order), P people in the image.

    Args:
        rng (np.random.Generator): The only source of randomness; the same state gives the same output.
        cfg (SyntheticMeshConfig, optional): Generation options; defaults to ``SyntheticMeshConfig()``.

    Returns:
        tuple:
        - image (np.ndarray): (H, W, 3) uint8 BGR.
        - annotations (list[dict]): P dicts of the fields in the module docstring; the caller adds ``id``,
          ``image_id`` and ``category_id``.
    """
    cfg = SyntheticMeshConfig() if cfg is None else cfg
    coco = cfg.coco
    image = draw_background(rng, coco)
    people: List[Dict] = []
    wanted = int(rng.integers(coco.people_per_image[0], coco.people_per_image[1] + 1))
    for _ in range(50 + wanted):
        if len(people) >= wanted:
            break
        person = _place(rng, cfg, np.array([p['box'] for p in people]).reshape(-1, 4))
        if person is not None:
            people.append(person)
        elif people:
            wanted -= 1
    if not people:
        raise ValueError(f'render_mesh_image: no person could be placed; check image_size={coco.image_size!r}, '
                         f'person_height={coco.person_height!r} and min_keypoints_in_image='
                         f'{coco.min_keypoints_in_image!r}')
    body, _, _ = _body(cfg.body_model_seed)
    faces = body.faces
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 1.0])
    colours = [_face_colours(rng, faces, cfg.body_model_seed, cfg.joint_pads) for _ in people]
    shades = [shade_faces(p['vertices'], faces, light=light) for p in people]
    image, owner, silhouettes = draw_meshes(image, [(p['pixels'], p['vertices'][:, 2]) for p in people], faces,
                                            colours=colours, shades=shades)
    owner = owner.astype(np.uint8)
    for person in people:
        if rng.random() < coco.occlusion_prob:
            draw_occluder(rng, image, owner, person, coco)
    if coco.noise_std > 0:
        noise = rng.standard_normal(size=image.shape, dtype=np.float32) * np.float32(coco.noise_std)
        image = np.clip(np.round(image.astype(np.float32) + noise), 0, 255).astype(np.uint8)
    plain = dataclasses.replace(coco, with_3d=False)
    annotations = []
    for index, (person, mask) in enumerate(zip(people, silhouettes)):
        fields = person_annotation(person, index + 1, owner, mask.astype(np.uint8), plain)
        fields.update(
            keypoints_3d=[round(float(v), 2) for v in (person['keypoints_3d'] * 1000.0).reshape(-1)],
            smpl_pose=[round(float(v), 6) for v in person['params']['pose'].reshape(-1)],
            smpl_betas=[round(float(v), 6) for v in person['params']['betas']],
            has_smpl=1, smpl_transl=[round(float(v), 6) for v in person['transl']])
        annotations.append(fields)
    return image, annotations


def mean_smpl_parameters(poses: np.ndarray, betas: np.ndarray) -> Dict[str, np.ndarray]:
    """Mean of poses (N, 72) axis-angle and betas (N, S) in SPIN's ``smpl_mean_params.npz`` format (the start
    of :class:`~pose_plugins.models.heads.SMPLRegressionHead` given ``mean_params``).

    Returns:
        dict: ``pose`` (144,) per joint the mean rotation matrix re-orthonormalised through 6D (as the head's
        flip-test average); ``shape`` (S,) the mean betas; ``cam`` (3,) SPIN's mean camera ``(0.9, 0, 0)``.
    """
    rotmat = axis_angle_to_matrix(torch.as_tensor(np.asarray(poses), dtype=torch.float64).reshape(-1, 24, 3))
    mean = rotation_6d_to_matrix(matrix_to_rotation_6d(rotmat.mean(0)))
    return dict(pose=matrix_to_rotation_6d(mean).reshape(-1).numpy().astype(np.float32),
                shape=np.asarray(betas, dtype=np.float64).mean(0).astype(np.float32),
                cam=np.array([0.9, 0.0, 0.0], dtype=np.float32))
