"""A deterministic humanoid mannequin in SMPL's exact file format (it is NOT SMPL), for tests and CPU demos.

SMPL's files are licensed (https://smpl.is.tue.mpg.de) and never shipped. The mannequin has every field of
:data:`~pose_plugins.body_models.smpl_format.SMPL_FIELDS` (shapes, poses, correctives hand-made): metres, y up,
facing +z, T-pose, 1.70 m; one tube per joint, joined by hidden tunnels into one genus-0 surface, smplx's face
keypoint vertex ids on the head. The seed varies stature (~2%) and part girth (~5%), never the topology.

Note:
    - V: 6890 vertices; F: 13776 faces; J: 24 joints; P: 207 pose-corrective coefficients; S: 10 betas
"""
import functools
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from pose_plugins.body_models.model_file import save_smpl_model_file
from pose_plugins.body_models.smpl import SMPL
from pose_plugins.body_models.smpl_format import (SMPL_FACE_VERTEX_IDS, SMPL_NUM_FACES, SMPL_NUM_JOINTS,
                                                         SMPL_NUM_VERTICES, SMPL_PARENTS)
from pose_plugins.registry import MODELS

__all__ = ['SyntheticSMPL', 'make_synthetic_smpl', 'write_synthetic_smpl']

_FLOOR_Y = -1.14
_NUM_BETAS = 10
# Joint positions (x, height above the floor, z) of the centre and the left side; the right side mirrors x.
_JOINTS_LEFT = {
    0: (0.0, 0.92, 0.0), 1: (0.085, 0.84, 0.0), 3: (0.0, 1.03, -0.01), 4: (0.095, 0.49, 0.01),
    6: (0.0, 1.16, 0.0), 7: (0.10, 0.08, -0.03), 9: (0.0, 1.24, 0.0), 10: (0.10, 0.03, 0.11),
    12: (0.0, 1.47, -0.02), 13: (0.08, 1.40, -0.02), 15: (0.0, 1.55, 0.0), 16: (0.19, 1.42, -0.02),
    18: (0.44, 1.42, -0.03), 20: (0.68, 1.42, -0.02), 22: (0.76, 1.42, -0.02),
}
_MIRROR = {2: 1, 5: 4, 8: 7, 11: 10, 14: 13, 17: 16, 19: 18, 21: 20, 23: 22}
# Per part j (centre and left): axis end (joint or point), extension before j / beyond the end, radii (e1, e2) at
# start and end, superellipse exponent p of the profile, rings x segments (chosen to total 6890 vertices).
_PARTS = {
    0: dict(end=(0.0, 1.03, 0.0), ext=(0.14, 0.01), r0=(0.10, 0.15), r1=(0.095, 0.145), p=4, nm=(16, 32)),
    3: dict(end=6, ext=(0.05, 0.04), r0=(0.095, 0.145), r1=(0.10, 0.15), p=4, nm=(10, 32)),
    6: dict(end=9, ext=(0.04, 0.04), r0=(0.10, 0.15), r1=(0.105, 0.16), p=4, nm=(10, 32)),
    9: dict(end=12, ext=(0.03, 0.03), r0=(0.11, 0.165), r1=(0.09, 0.15), p=4, nm=(16, 32)),
    12: dict(end=15, ext=(0.03, 0.03), r0=(0.055, 0.055), r1=(0.05, 0.05), p=4, nm=(9, 18)),
    15: dict(end=(0.0, 1.70, 0.02), ext=(0.06, 0.0), r0=(0.10, 0.08), r1=(0.10, 0.08), p=2, nm=(29, 24)),
    13: dict(end=16, ext=(0.06, 0.03), r0=(0.06, 0.055), r1=(0.055, 0.06), p=4, nm=(8, 16)),
    16: dict(end=18, ext=(0.03, 0.03), r0=(0.052, 0.052), r1=(0.042, 0.042), p=4, nm=(20, 16)),
    18: dict(end=20, ext=(0.03, 0.02), r0=(0.042, 0.042), r1=(0.03, 0.025), p=4, nm=(18, 16)),
    20: dict(end=22, ext=(0.02, 0.01), r0=(0.04, 0.016), r1=(0.045, 0.015), p=4, nm=(8, 12)),
    22: dict(end=(0.86, 1.42, -0.02), ext=(0.01, 0.0), r0=(0.042, 0.013), r1=(0.035, 0.01), p=4, nm=(8, 12)),
    1: dict(end=4, ext=(0.07, 0.03), r0=(0.085, 0.085), r1=(0.055, 0.055), p=4, nm=(22, 24)),
    4: dict(end=7, ext=(0.03, 0.03), r0=(0.055, 0.05), r1=(0.04, 0.035), p=4, nm=(22, 20)),
    7: dict(end=10, ext=(0.06, 0.02), r0=(0.04, 0.04), r1=(0.025, 0.045), p=4, nm=(12, 16)),
    10: dict(end=(0.10, 0.02, 0.19), ext=(0.02, 0.0), r0=(0.02, 0.045), r1=(0.012, 0.04), p=4, nm=(6, 12)),
}
# Face keypoints: the head vertex nearest each of these points (just outside the head) gets smplx's vertex id.
_FACE_TARGETS = {
    'nose': (0.0, 1.585, 0.16), 'left_eye': (0.035, 1.62, 0.13), 'right_eye': (-0.035, 1.62, 0.13),
    'left_ear': (0.12, 1.595, 0.0), 'right_ear': (-0.12, 1.595, 0.0),
}
_NOSE = dict(centre=(0.0, 1.585), height=0.018, sigma=(0.012, 0.012))  # a Gaussian bump along +z
_BULGE = 0.004  # m per unit of (3 - trace R)
_POSE_DIRECTIONAL = 0.05


def _children() -> Dict[int, List[int]]:
    children: Dict[int, List[int]] = {j: [] for j in range(SMPL_NUM_JOINTS)}
    for joint, parent in enumerate(SMPL_PARENTS[1:], start=1):
        children[parent].append(joint)
    return children


def _mirror(point: Tuple[float, float, float]) -> np.ndarray:
    return np.array([-point[0], point[1], point[2]])


def _variation(rng: Optional[np.random.Generator], spread: float) -> float:
    """A factor 1 + spread * N(0, 1) clipped at 2 sigma; 1 without a generator."""
    return 1.0 if rng is None else 1.0 + spread * float(np.clip(rng.standard_normal(), -2.0, 2.0))


def _part_table(rng: Optional[np.random.Generator]) -> Tuple[np.ndarray, Dict[int, dict]]:
    """Joint positions (J, 3) in model coordinates and every part's geometry, with the seed's variations."""
    stature = _variation(rng, 0.02)
    to_model = np.array([1.0, stature, 1.0]), np.array([0.0, _FLOOR_Y, 0.0])
    left = {joint: np.asarray(position) * to_model[0] + to_model[1] for joint, position in _JOINTS_LEFT.items()}
    joints = np.zeros((SMPL_NUM_JOINTS, 3))
    for joint in range(SMPL_NUM_JOINTS):
        joints[joint] = left[joint] if joint in left else left[_MIRROR[joint]] * np.array([-1.0, 1.0, 1.0])
    parts = {}
    for joint, spec in _PARTS.items():
        girth = _variation(rng, 0.05)
        end = left[spec['end']] if isinstance(spec['end'], int) else np.asarray(spec['end']) * to_model[0] + \
            to_model[1]
        parts[joint] = dict(spec, end=end, girth=girth)
    for right, mirrored in _MIRROR.items():
        parts[right] = dict(parts[mirrored], end=parts[mirrored]['end'] * np.array([-1.0, 1.0, 1.0]))
    return joints, parts


def _axes(direction: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Unit vectors e1, e2 across ``direction``: e1 towards the front (+z), or up (+y) for parts along z."""
    reference = np.array([0.0, 1.0, 0.0]) if abs(direction[2]) > 0.8 else np.array([0.0, 0.0, 1.0])
    e1 = reference - reference.dot(direction) * direction
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(direction, e1)


def _build_part(joint_position: np.ndarray, spec: dict) -> dict:
    """One closed part: vertices (n m + 2, 3), outward faces (2 n m, 3), and per vertex its axis point."""
    end = spec['end']
    direction = (end - joint_position) / np.linalg.norm(end - joint_position)
    start = joint_position - spec['ext'][0] * direction
    length = np.linalg.norm(end - joint_position) + spec['ext'][0] + spec['ext'][1]
    num_rings, num_segments = spec['nm']
    e1, e2 = _axes(direction)
    s = (np.arange(num_rings) + 0.5) / num_rings  # ring positions along the axis, in (0, 1)
    profile = (1.0 - np.abs(2.0 * s - 1.0) ** spec['p']) ** (1.0 / spec['p'])
    radius_1 = spec['girth'] * ((1 - s) * spec['r0'][0] + s * spec['r1'][0]) * profile
    radius_2 = spec['girth'] * ((1 - s) * spec['r0'][1] + s * spec['r1'][1]) * profile
    phi = 2.0 * np.pi * np.arange(num_segments) / num_segments
    axis_points = start + (s * length)[:, None] * direction
    rings = (axis_points[:, None] + radius_1[:, None, None] * np.cos(phi)[None, :, None] * e1 +
             radius_2[:, None, None] * np.sin(phi)[None, :, None] * e2)
    vertices = np.concatenate([rings.reshape(-1, 3), start[None], (start + length * direction)[None]])
    axis = np.concatenate([np.repeat(axis_points, num_segments, axis=0), start[None],
                           (start + length * direction)[None]])
    ring = np.arange(num_rings * num_segments).reshape(num_rings, num_segments)
    nxt = np.roll(ring, -1, axis=1)
    quads_a = np.stack([ring[:-1], nxt[:-1], nxt[1:]], axis=-1).reshape(-1, 3)
    quads_b = np.stack([ring[:-1], nxt[1:], ring[1:]], axis=-1).reshape(-1, 3)
    pole_start, pole_end = num_rings * num_segments, num_rings * num_segments + 1
    cap_start = np.stack([np.full(num_segments, pole_start), nxt[0], ring[0]], axis=-1)
    cap_end = np.stack([np.full(num_segments, pole_end), ring[-1], nxt[-1]], axis=-1)
    faces = np.concatenate([quads_a, quads_b, cap_start, cap_end])
    triangles = vertices[faces]
    volume = np.einsum('fi,fi->f', triangles[:, 0], np.cross(triangles[:, 1], triangles[:, 2])).sum() / 6.0
    if volume < 0:
        faces = faces[:, ::-1]
    ring_offsets = s * length - spec['ext'][0]  # axial position of each ring relative to the joint
    return dict(vertices=vertices, faces=faces, axis=axis, direction=direction, ring_offsets=ring_offsets,
                segment=(start, start + length * direction),
                num_segments=num_segments, num_rings=num_rings,
                mean_radius=0.5 * spec['girth'] * (spec['r0'][0] + spec['r0'][1]))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _assemble(rng: Optional[np.random.Generator]) -> dict:
    """The 24 parts, concatenated in joint order (before the tunnels and the renumbering)."""
    joints, specs = _part_table(rng)
    parts = {joint: _build_part(joints[joint], specs[joint]) for joint in range(SMPL_NUM_JOINTS)}
    offsets = np.cumsum([0] + [len(parts[j]['vertices']) for j in range(SMPL_NUM_JOINTS)])
    if offsets[-1] != SMPL_NUM_VERTICES:
        raise AssertionError(f'the part table gives {offsets[-1]} vertices, not {SMPL_NUM_VERTICES}')
    vertices = np.concatenate([parts[j]['vertices'] for j in range(SMPL_NUM_JOINTS)])
    part_of = np.concatenate([np.full(len(parts[j]['vertices']), j) for j in range(SMPL_NUM_JOINTS)])
    face_lists = [parts[j]['faces'] + offsets[j] for j in range(SMPL_NUM_JOINTS)]
    bump = _NOSE['height'] * np.exp(-0.5 * (((vertices[:, 0] - _NOSE['centre'][0]) / _NOSE['sigma'][0]) ** 2 +
                                            ((vertices[:, 1] - _FLOOR_Y - _NOSE['centre'][1]) / _NOSE['sigma'][1])
                                            ** 2))
    vertices[:, 2] += np.where((part_of == 15) & (vertices[:, 2] > 0), bump, 0.0)
    return dict(joints=joints, parts=parts, offsets=offsets, vertices=vertices, part_of=part_of,
                axis=np.concatenate([parts[j]['axis'] for j in range(SMPL_NUM_JOINTS)]),
                faces=np.concatenate(face_lists),
                part_of_face=np.concatenate([np.full(len(f), j) for j, f in enumerate(face_lists)]))


def _topology(body: dict) -> Tuple[np.ndarray, np.ndarray]:
    """SMPL's faces (F, 3) in the assembled numbering and ``new_to_old`` (V,), the renumbering that puts smplx's
    face keypoint ids on the face; from the seed-free mannequin, so that every seed has the same topology."""
    vertices, faces, part_of_face, joints = body['vertices'], body['faces'], body['part_of_face'], body['joints']
    # join the parts along the kinematic tree: one tunnel per joint j > 0, through the nearest faces
    removed = np.zeros(len(faces), dtype=bool)
    centroids = vertices[faces].mean(axis=1)
    tunnels = []
    for joint in range(1, SMPL_NUM_JOINTS):
        # inside the overlap: the child's face nearest the parent's axis, the parent's face nearest the joint
        start, end = body['parts'][SMPL_PARENTS[joint]]['segment']
        along = np.clip((joints[joint] - start) @ (end - start) / ((end - start) @ (end - start)), 0.0, 1.0)
        candidates = np.flatnonzero((part_of_face == joint) & ~removed)
        child_face = candidates[np.argmin(np.linalg.norm(centroids[candidates] - (start + along * (end - start)),
                                                         axis=1))]
        candidates = np.flatnonzero((part_of_face == SMPL_PARENTS[joint]) & ~removed)
        parent_face = candidates[np.argmin(np.linalg.norm(centroids[candidates] - joints[joint], axis=1))]
        removed[[child_face, parent_face]] = True
        a, b = faces[child_face], faces[parent_face][[0, 2, 1]]  # b reversed: the tunnel joins opposite windings
        for i in range(3):
            i1 = (i + 1) % 3
            tunnels += [(a[i], a[i1], b[i1]), (a[i], b[i1], b[i])]
    faces = np.concatenate([faces[~removed], np.asarray(tunnels)])
    if len(faces) != SMPL_NUM_FACES:
        raise AssertionError(f'{len(faces)} faces, not {SMPL_NUM_FACES}')
    new_to_old = np.full(SMPL_NUM_VERTICES, -1)
    head_ids = np.flatnonzero(body['part_of'] == 15)
    for name, target in _FACE_TARGETS.items():
        target = np.asarray(target) + np.array([0.0, _FLOOR_Y, 0.0])
        new_to_old[SMPL_FACE_VERTEX_IDS[name]] = head_ids[np.argmin(np.linalg.norm(vertices[head_ids] - target,
                                                                                   axis=1))]
    chosen = new_to_old[new_to_old >= 0]
    if len(set(chosen.tolist())) != len(chosen):
        raise AssertionError('two face keypoints chose the same vertex')
    new_to_old[new_to_old < 0] = np.setdiff1d(np.arange(SMPL_NUM_VERTICES), chosen)
    return faces, new_to_old


def _joint_regressor(body: dict) -> np.ndarray:
    """(J, V): row j interpolates linearly between the two rings of part j on either side of joint j."""
    regressor = np.zeros((SMPL_NUM_JOINTS, SMPL_NUM_VERTICES))
    for joint, part in body['parts'].items():
        ring_offsets, m, first = part['ring_offsets'], part['num_segments'], body['offsets'][joint]
        k = int(np.searchsorted(ring_offsets, 0.0, side='right')) - 1
        if not 0 <= k < part['num_rings'] - 1:
            raise AssertionError(f'joint {joint} is not between two rings of its part')
        lam = ring_offsets[k + 1] / (ring_offsets[k + 1] - ring_offsets[k])
        regressor[joint, first + k * m:first + (k + 1) * m] = lam / m
        regressor[joint, first + (k + 1) * m:first + (k + 2) * m] = (1.0 - lam) / m
    return regressor


def _skinning_weights(body: dict) -> np.ndarray:
    """(V, J): each part follows its joint, smoothstep-blended with the parent's and a single child's joint."""
    joints, vertices, offsets = body['joints'], body['vertices'], body['offsets']
    children = _children()
    weights = np.zeros((SMPL_NUM_VERTICES, SMPL_NUM_JOINTS))
    for joint, part in body['parts'].items():
        rows = np.arange(offsets[joint], offsets[joint + 1])
        axial = (vertices[rows] - joints[joint]) @ part['direction']
        blend = max(0.5 * part['mean_radius'], 0.02)  # half-width of the blend along the axis, metres
        own = np.ones(len(rows)) if joint == 0 else _smoothstep((axial + blend) / (2 * blend))
        if joint > 0:
            weights[rows, SMPL_PARENTS[joint]] += 1.0 - own
        if len(children[joint]) == 1:
            child = children[joint][0]
            bone = (joints[child] - joints[joint]) @ part['direction']
            towards_child = _smoothstep((axial - bone + blend) / (2 * blend))
            weights[rows, child] += own * towards_child
            own = own * (1.0 - towards_child)
        weights[rows, joint] += own
    return weights


def _shape_directions(body: dict) -> np.ndarray:
    """(V, 3, 10): displacement per unit beta: stature, weight, leg length, arm length, torso length, shoulder
    width, hip width, belly depth, head size, limb girth; joints follow through the regressor."""
    joints, vertices, part_of = body['joints'], body['vertices'], body['part_of']
    x, y, z = vertices.T
    side = np.sign(x)
    radial = vertices - body['axis']
    torso, neck, head = np.isin(part_of, (0, 3, 6, 9)), part_of == 12, part_of == 15
    limbs = np.isin(part_of, (1, 2, 4, 5, 13, 14, 16, 17, 18, 19))  # thighs, shins, collars, upper and forearms
    legs = np.isin(part_of, (1, 2, 4, 5, 7, 8, 10, 11))
    arms = np.isin(part_of, (16, 17, 18, 19, 20, 21, 22, 23))
    collars = np.isin(part_of, (13, 14))
    above_torso = np.isin(part_of, (12, 15)) | collars | arms
    hip_y, shoulder_x = joints[1, 1], joints[16, 0]
    arm_length = joints[22, 0] + 0.10 - shoulder_x  # shoulder to fingertips
    directions = np.zeros((SMPL_NUM_VERTICES, 3, _NUM_BETAS))
    directions[:, :, 0] = 0.04 * (vertices - np.array([0.0, _FLOOR_Y, 0.0]))
    directions[:, :, 1] = np.select([torso, limbs | neck], [0.15, 0.10], 0.0)[:, None] * radial
    directions[:, 1, 2] = np.where(legs, -0.06 * np.maximum(hip_y - y, 0.0) / (hip_y - _FLOOR_Y), 0.0)
    directions[:, 0, 3] = np.where(arms, 0.05 * side * np.maximum(np.abs(x) - shoulder_x, 0.0) / arm_length, 0.0)
    spine = np.clip((y - joints[3, 1]) / (joints[9, 1] - joints[3, 1]), 0.0, 1.0)
    directions[:, 1, 4] = 0.05 * np.select([torso, above_torso], [spine, 1.0], 0.0)
    chest = np.clip((y - joints[6, 1]) / (joints[16, 1] - joints[6, 1]), 0.0, 1.0)
    directions[:, 0, 5] = 0.04 * np.select(
        [part_of == 9, collars, arms], [x / 0.17 * chest, side * np.clip(np.abs(x) / shoulder_x, 0.0, 1.0), side],
        0.0)
    directions[:, 0, 6] = 0.025 * np.select([legs, part_of == 0], [side, x / joints[1, 0]], 0.0)
    directions[:, 2, 7] = np.where(np.isin(part_of, (3, 6)), 0.25 * np.maximum(z - body['axis'][:, 2], 0.0), 0.0)
    directions[:, :, 8] = np.where(head[:, None], 0.08 * (vertices - body['axis'][head].mean(axis=0)), 0.0)
    directions[:, :, 9] = np.where(limbs, 0.15, 0.0)[:, None] * radial
    return directions


def _pose_correctives(body: dict) -> np.ndarray:
    """(V, 3, 207): column (j - 1) * 9 + 3 a + b multiplies (R_j - I)[a, b]; near joint j, a bulge outwards from
    the part's axis growing with the bend and a small term (R_j - I) (v - J_j)."""
    joints, vertices, part_of = body['joints'], body['vertices'], body['part_of']
    radial = vertices - body['axis']
    outwards = radial / np.maximum(np.linalg.norm(radial, axis=1, keepdims=True), 1e-12)
    posedirs = np.zeros((SMPL_NUM_VERTICES, 3, 9 * (SMPL_NUM_JOINTS - 1)))
    for joint in range(1, SMPL_NUM_JOINTS):
        sigma = body['parts'][joint]['mean_radius']
        near = np.exp(-0.5 * ((vertices - joints[joint]) ** 2).sum(axis=1) / sigma ** 2)
        near *= np.isin(part_of, (joint, SMPL_PARENTS[joint])) & (near > 1e-3)
        base = 9 * (joint - 1)
        for a in range(3):
            # 3 - trace R = -(sum of the diagonal of R - I): columns base + 0, 4, 8
            posedirs[:, :, base + 4 * a] -= _BULGE * near[:, None] * outwards
            posedirs[:, a, base + 3 * a:base + 3 * a + 3] += \
                _POSE_DIRECTIONAL * near[:, None] * (vertices - joints[joint])
    return posedirs


def _generate(seed: int) -> Dict[str, np.ndarray]:
    body = _assemble(np.random.default_rng(seed))
    faces, new_to_old = _topology(_assemble(None))
    old_to_new = np.argsort(new_to_old)
    kintree = np.stack([np.asarray(SMPL_PARENTS), np.arange(SMPL_NUM_JOINTS)]).astype(np.int64)
    return dict(v_template=body['vertices'][new_to_old], shapedirs=_shape_directions(body)[new_to_old],
                posedirs=_pose_correctives(body)[new_to_old], J_regressor=_joint_regressor(body)[:, new_to_old],
                weights=_skinning_weights(body)[new_to_old], kintree_table=kintree,
                f=old_to_new[faces].astype(np.int64))


@functools.lru_cache(maxsize=4)
def _cached(seed: int) -> Dict[str, np.ndarray]:
    arrays = _generate(seed)
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


def make_synthetic_smpl(*, seed: int = 0) -> Dict[str, np.ndarray]:
    """The mannequin of ``seed`` (cached per process; ValueError unless a non-negative int), as fresh copies:
    ``v_template`` (V, 3), ``shapedirs`` (V, 3, 10), ``posedirs`` (V, 3, 207), ``J_regressor`` (J, V),
    ``weights`` (V, J) float64 metres; ``kintree_table`` (2, J) (root parent -1) and ``f`` (F, 3) int64."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'seed must be a non-negative int, got {seed!r}')
    return {key: value.copy() for key, value in _cached(int(seed)).items()}


def write_synthetic_smpl(path: Union[str, os.PathLike], *, seed: int = 0) -> Path:
    """Write :func:`make_synthetic_smpl`'s model of ``seed`` to a new ``.npz``, or ``.pkl`` in SMPL's layout
    (``smplx.SMPL`` reads it too), and return ``path``; never overwrites."""
    return save_smpl_model_file(path, make_synthetic_smpl(seed=seed))


@MODELS.register_module()
class SyntheticSMPL(SMPL):
    """The :class:`~pose_plugins.body_models.SMPL` layer on :func:`make_synthetic_smpl`'s mannequin (NOT
    SMPL) for tests and demos: ``dict(type='pose_plugins.SyntheticSMPL')``, importing ``pose_plugins.synthetic``.

    Args:
        num_betas (int): Shape coefficients used, at most 10.
        seed (int): The mannequin's seed.
    """

    def __init__(self, *, num_betas: int = 10, seed: int = 0) -> None:
        super().__init__(arrays=make_synthetic_smpl(seed=seed), num_betas=num_betas)
        self.seed = seed
