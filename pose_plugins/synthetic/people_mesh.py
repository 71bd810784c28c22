"""Synthetic mesh people: bodies of a :class:`~pose_plugins.body_models.BodyModel` (the synthetic SMPL-format
mannequin, NOT SMPL, or Anny) posed from a prior, z-buffered into the 2D people's scenes (background, occluders,
noise, JPEG) with the body's parameters as ground truth per person.

- Prior (:data:`~.body_priors.BODY_PRIORS`, by joint and shape names): joint angles uniform in ranges, the right
  side mirroring its own draw; shapes (SMPL's betas ~ N(0, ``shape_std``^2) clipped at 2.5 std, Anny's phenotypes
  uniform); the root the body's ``upright`` turned by yaw (about the camera's vertical), tilt and roll.
- Size: ``Z = f * stature / person_height``, the stature the prior's (the mannequin: 1.70 m) or each body's own
  (Anny: its rest mesh's height), so that a standing person is ``person_height`` pixels tall.
- Faces coloured by body part (left and right alike), Lambert-shaded; ``joint_pads`` adds joint-type pads.
- Annotations (:class:`pose_plugins.datasets.CocoMeshDataset`): :func:`~.annotations.person_annotation`'s fields,
  ``keypoints_3d`` (K * 3, camera frame, mm), ``body_model`` (``'smpl'`` for the mannequin, SMPL's format;
  ``'anny'``), ``body_pose`` (J * 3 axis-angle radians, root first: the global orientation in the camera frame),
  ``body_shape`` (S), ``has_body`` (1), ``body_transl`` (3, m: keypoints_3d = the posed body's keypoints +
  ``body_transl``); ``camera_param`` per image.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch

from pose_plugins.geometry import (axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_rotation_6d,
                                   rotation_6d_to_matrix)
from pose_plugins.visualization.mesh_drawing import draw_meshes, shade_faces
from .annotations import person_annotation
from .config import SyntheticCocoConfig
from .drawing import JOINT_TYPE_COLOURS, draw_background, draw_occluder
from .geometry import box_iou, in_image, pinhole_camera
from .mesh_body import BODY_MODEL_NAMES, EYE_TYPE, MeshBody, cached_mesh_body

__all__ = ['SyntheticMeshConfig', 'sample_body_parameters', 'pose_bodies', 'render_mesh_image',
           'mean_body_parameters']

_SKIN_TONES = np.array([(60, 80, 120), (80, 110, 160), (100, 140, 200), (140, 180, 230), (170, 205, 240)],
                       dtype=np.float64)
_EYE_COLOUR = np.array([20.0, 20.0, 20.0])


@dataclass(frozen=True)
class SyntheticMeshConfig:
    """Generation options of the synthetic mesh people (frozen; ``dataclasses.replace`` makes variants).

    Args:
        coco (SyntheticCocoConfig): Options shared with the 2D people (image, placement, occluders, noise, JPEG,
            ``focal_length``, ``rotation_range`` as roll). Defaults to ``SyntheticCocoConfig(rotation_range=15)``.
        body_model (str): ``'synthetic_smpl'`` (the mannequin of ``body_model_seed``, SMPL's format, NOT SMPL) or
            ``'anny'`` (:class:`~pose_plugins.body_models.AnnyBody`, the 'body' bones).
        pose_scale (float): Factor on the prior's joint-angle ranges; 0 gives the rest pose.
        yaw_range (float): Maximum absolute turn about the vertical, degrees (180: any direction).
        tilt_range (float): Maximum absolute tilt towards / away from the camera, degrees.
        shape_std (float): Spread of the shapes: the betas' standard deviation; for bounded shapes (Anny's
            phenotypes) the factor on the prior's ranges about the neutral shape. 0 gives the neutral shape.
        body_model_seed (int): Seed of the synthetic mannequin (``body_model='synthetic_smpl'`` only).
        joint_pads (bool): Joint-type pads and dark eyes (:attr:`~.mesh_body.MeshBody.pad_types`); draws no
            random number.
    """

    coco: SyntheticCocoConfig = SyntheticCocoConfig(rotation_range=15.0)
    body_model: str = 'synthetic_smpl'
    pose_scale: float = 1.0
    yaw_range: float = 45.0
    tilt_range: float = 10.0
    shape_std: float = 1.0
    body_model_seed: int = 0
    joint_pads: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.coco, SyntheticCocoConfig):
            raise ValueError(f'SyntheticMeshConfig.coco must be a SyntheticCocoConfig, got {self.coco!r}')
        if self.body_model not in BODY_MODEL_NAMES:
            raise ValueError(f'SyntheticMeshConfig.body_model must be one of {list(BODY_MODEL_NAMES)}, got '
                             f'{self.body_model!r}')
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

    @property
    def mesh_body(self) -> MeshBody:
        """The body model of ``body_model`` (built once per process) with its prior and vertex tables."""
        return cached_mesh_body(self.body_model, self.body_model_seed)


def _turn(axis: int, degrees: float) -> np.ndarray:
    """Rotation matrix (3, 3) of ``degrees`` about coordinate ``axis``."""
    a = np.deg2rad(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = [k for k in range(3) if k != axis]
    m = np.eye(3)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def sample_body_parameters(rng: np.random.Generator, cfg: SyntheticMeshConfig) -> Dict[str, np.ndarray]:
    """One person's body parameters from the prior (module docstring): the joints, then the shape, then yaw,
    tilt and roll; ``orientation = turn_z(roll) @ turn_x(tilt) @ turn_y(yaw) @ upright`` (camera axes).

    Returns:
        dict: ``pose`` (J, 3) axis-angle (radians; row 0 the global orientation in the camera frame),
        ``shape`` (S, ), ``yaw`` () degrees (|yaw| > 90: turned away).
    """
    body = cfg.mesh_body
    pose = body.prior.sample_pose(rng, body.body, scale=cfg.pose_scale)
    shape = body.prior.sample_shape(rng, body.body, std=cfg.shape_std)
    yaw = rng.uniform(-cfg.yaw_range, cfg.yaw_range)
    tilt = rng.uniform(-cfg.tilt_range, cfg.tilt_range)
    roll = rng.uniform(-cfg.coco.rotation_range, cfg.coco.rotation_range)
    orient = _turn(2, roll) @ _turn(0, tilt) @ _turn(1, yaw) @ np.asarray(body.body.upright, dtype=np.float64)
    pose[0] = matrix_to_axis_angle(torch.from_numpy(orient)).numpy()
    return dict(pose=pose, shape=shape, yaw=np.asarray(yaw))


def pose_bodies(body: MeshBody, poses: np.ndarray, shapes: np.ndarray, *, with_rest: bool = False
                ) -> Dict[str, np.ndarray]:
    """The body model on P parameter sets, in one float32 batch without gradients.

    Args:
        body (MeshBody): The body model.
        poses (np.ndarray): (P, J, 3) axis-angle radians, root first.
        shapes (np.ndarray): (P, S).
        with_rest (bool): Also pose each shape at rest (every rotation the identity) in the same batch.

    Returns:
        dict: ``vertices`` (P, V, 3), ``joints`` (P, J, 3), ``keypoints`` (P, K, 3): metres, the model frame
        turned by the root, float64; with ``with_rest`` also ``rest_vertices`` (P, V, 3) in the model frame.
    """
    rotmat = axis_angle_to_matrix(torch.as_tensor(np.asarray(poses), dtype=torch.float32))
    shape = torch.as_tensor(np.asarray(shapes), dtype=torch.float32)
    count = len(rotmat)
    if with_rest:
        rotmat = torch.cat([rotmat, torch.eye(3).expand_as(rotmat)])
        shape = torch.cat([shape, shape])
    with torch.no_grad():
        out = body.body(shape=shape, rotmat=rotmat)
    posed = {key: value[:count].double().numpy() for key, value in out.items()}
    if with_rest:
        posed['rest_vertices'] = out['vertices'][count:].double().numpy()
    return posed


def _place(rng: np.random.Generator, cfg: SyntheticMeshConfig, placed: np.ndarray) -> Optional[Dict]:
    """Sample a person and a position until it fits; ``None`` after ``placement_tries``."""
    coco, body = cfg.coco, cfg.mesh_body
    focal, centre = pinhole_camera(coco)
    size = np.asarray(coco.image_size, dtype=np.float64)
    measure = body.prior.stature_m is None
    for _ in range(coco.placement_tries):
        params = sample_body_parameters(rng, cfg)
        height = rng.uniform(*coco.person_height)
        truncate = bool(rng.random() < coco.truncation_prob)
        posed = pose_bodies(body, params['pose'][None], params['shape'][None], with_rest=measure)
        posed = {key: value[0] for key, value in posed.items()}
        depth = focal[0] * body.stature(posed.get('rest_vertices')) / height
        margin = 0.0 if truncate else 0.3 * height
        pelvis_pixel = rng.uniform(margin, size - margin) if np.all(size > 2 * margin) else size / 2
        root = posed['joints'][0]
        transl = np.array([(pelvis_pixel[0] - centre[0]) * depth / focal[0],
                           (pelvis_pixel[1] - centre[1]) * depth / focal[1], depth]) - root
        vertices = posed['vertices'] + transl
        pixels = vertices[:, :2] / vertices[:, 2:] * focal + centre
        keypoints_3d = posed['keypoints'] + transl
        keypoints = keypoints_3d[:, :2] / keypoints_3d[:, 2:] * focal + centre
        box = np.concatenate([pixels.min(0), pixels.max(0)])
        if np.count_nonzero(in_image(keypoints, coco.image_size)) < coco.min_keypoints_in_image:
            continue
        if len(placed) and box_iou(box, placed).max() > coco.max_overlap:
            continue
        return dict(params=params, transl=transl, vertices=vertices, pixels=pixels, keypoints=keypoints,
                    keypoints_3d=keypoints_3d, box=box, height=height, back_facing=abs(float(params['yaw'])) > 90.0)
    return None


def _face_colours(rng: np.random.Generator, body: MeshBody, joint_pads: bool = False) -> np.ndarray:
    """Per-face BGR colours (T, 3): clothing, skin, hair, and with ``joint_pads`` the pads and eyes."""
    prior, names = body.prior, body.body.joint_names
    skin = np.clip(_SKIN_TONES[rng.integers(len(_SKIN_TONES))] + rng.uniform(-12, 12, size=3), 0, 255)
    shirt, trousers = rng.uniform(20.0, 235.0, size=(2, 3))
    sleeve = shirt if rng.random() < 0.5 else skin
    hair, shoes = rng.uniform(10.0, 90.0, size=(2, 3))
    vertex_colour = np.zeros((len(body.part), 3))
    for joints, colour in ((prior.skin, skin), (prior.shirt, shirt), (prior.sleeves, sleeve),
                           (prior.trousers, trousers), (prior.shoes, shoes)):
        vertex_colour[np.isin(body.part, [names.index(name) for name in joints])] = colour
    vertex_colour[body.hair] = hair
    if joint_pads:
        padded = body.pad_types >= 0
        vertex_colour[padded] = JOINT_TYPE_COLOURS[body.pad_types[padded]]
        vertex_colour[body.pad_types == EYE_TYPE] = _EYE_COLOUR
    return vertex_colour[body.body.faces[:, 0]]


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
    coco, body = cfg.coco, cfg.mesh_body
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
    faces = body.body.faces
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 1.0])
    colours = [_face_colours(rng, body, cfg.joint_pads) for _ in people]
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
            body_model=body.prior.annotation_name,
            body_pose=[round(float(v), 6) for v in person['params']['pose'].reshape(-1)],
            body_shape=[round(float(v), 6) for v in person['params']['shape']],
            has_body=1, body_transl=[round(float(v), 6) for v in person['transl']])
        annotations.append(fields)
    return image, annotations


def mean_body_parameters(poses: np.ndarray, shapes: np.ndarray) -> Dict[str, np.ndarray]:
    """Mean of N people's body parameters in SPIN's mean-parameter format (``smpl_mean_params.npz``'s arrays; the
    start of the mesh head given ``mean_params``), for any body model.

    Args:
        poses (np.ndarray): (N, J * 3) axis-angle radians (J from the length).
        shapes (np.ndarray): (N, S).

    Returns:
        dict: ``pose`` (6 J,) float32, per joint the mean rotation matrix re-orthonormalised through 6D (as the
        head's flip-test average); ``shape`` (S,) float32 the mean shape; ``cam`` (3,) SPIN's mean camera
        ``(0.9, 0, 0)``.

    Raises:
        ValueError: naming ``poses`` or ``shapes`` when its shape is wrong.
    """
    poses, shapes = np.asarray(poses, dtype=np.float64), np.asarray(shapes, dtype=np.float64)
    if poses.ndim != 2 or len(poses) < 1 or poses.shape[1] < 3 or poses.shape[1] % 3:
        raise ValueError(f'mean_body_parameters: poses must be (N, J * 3) with N >= 1, got {poses.shape}')
    if shapes.ndim != 2 or len(shapes) != len(poses):
        raise ValueError(f'mean_body_parameters: shapes must be (N, S) with the N = {len(poses)} of poses, got '
                         f'{shapes.shape}')
    rotmat = axis_angle_to_matrix(torch.from_numpy(poses).reshape(len(poses), -1, 3))
    mean = rotation_6d_to_matrix(matrix_to_rotation_6d(rotmat.mean(0)))
    return dict(pose=matrix_to_rotation_6d(mean).reshape(-1).numpy().astype(np.float32),
                shape=shapes.mean(0).astype(np.float32), cam=np.array([0.9, 0.0, 0.0], dtype=np.float32))
