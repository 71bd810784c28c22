"""The SMPL layer against a float64 linear-blend-skinning reference written here (numpy, not smplx), the rest pose,
the shape directions, COCO's keypoints on the mesh, registration, errors, and smplx reading our .pkl itself."""
from typing import Dict

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from pose_plugins.body_models import COCO_KEYPOINT_SOURCES, SMPL, SMPL_PARENTS
from pose_plugins.synthetic import SyntheticSMPL, make_synthetic_smpl, write_synthetic_smpl


@pytest.fixture(scope='module')
def arrays() -> Dict[str, np.ndarray]:
    return make_synthetic_smpl(seed=0)


@pytest.fixture(scope='module')
def body() -> SMPL:
    return SyntheticSMPL()


def reference_lbs(arrays: Dict[str, np.ndarray], betas: np.ndarray, rotations: np.ndarray):
    """SMPL's forward pass (Loper et al. 2015, eqs. 1-4) in float64 with explicit loops over the joint tree.

    betas (B, S); rotations (B, 24, 3, 3), the root's first. Returns vertices (B, V, 3), joints (B, 24, 3).
    """
    batch, num_betas = betas.shape
    v_shaped = arrays['v_template'] + np.einsum('vck,bk->bvc', arrays['shapedirs'][:, :, :num_betas], betas)
    rest_joints = np.einsum('jv,bvc->bjc', arrays['J_regressor'], v_shaped)
    pose_feature = (rotations[:, 1:] - np.eye(3)).reshape(batch, -1)  # row-major: (joint, row, column)
    v_posed = v_shaped + np.einsum('vck,bk->bvc', arrays['posedirs'], pose_feature)
    vertices = np.zeros_like(v_posed)
    joints = np.zeros_like(rest_joints)
    for b in range(batch):
        world = []
        for j, parent in enumerate(SMPL_PARENTS):
            local = np.eye(4)
            local[:3, :3] = rotations[b, j]
            local[:3, 3] = rest_joints[b, j] - (rest_joints[b, parent] if parent >= 0 else 0.0)
            world.append(local if parent < 0 else world[parent] @ local)
        skinning = []
        for j in range(len(SMPL_PARENTS)):
            joints[b, j] = world[j][:3, 3]
            moved = world[j].copy()  # the transform of a rest-pose point: remove the rest joint first
            moved[:3, 3] -= world[j][:3, :3] @ rest_joints[b, j]
            skinning.append(moved)
        blended = np.einsum('vj,jmn->vmn', arrays['weights'], np.stack(skinning))
        vertices[b] = np.einsum('vmn,vn->vm', blended[:, :3, :3], v_posed[b]) + blended[:, :3, 3]
    return vertices, joints


def random_pose(seed: int, batch: int, max_angle: float = np.pi):
    """Rotation matrices (B, 24, 3, 3) of random axes and angles up to ``max_angle``, and betas (B, 10) ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(batch * 24, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    rotvec = axes * rng.uniform(0, max_angle, size=(batch * 24, 1))
    return rng.normal(size=(batch, 10)), Rotation.from_rotvec(rotvec).as_matrix().reshape(batch, 24, 3, 3)


def run(body: SMPL, betas: np.ndarray, rotations: np.ndarray, dtype: torch.dtype = torch.float32):
    as_tensor = lambda a: torch.tensor(np.ascontiguousarray(a), dtype=dtype)  # noqa: E731
    with torch.no_grad():
        out = body(shape=as_tensor(betas), rotmat=as_tensor(rotations))
    return {key: value.double().numpy() for key, value in out.items()}


@pytest.mark.parametrize('seed', [0, 1])
def test_float64_layer_equals_reference(arrays, seed: int) -> None:
    body = SyntheticSMPL().double()  # its buffers hold the model's arrays rounded to float32: the reference takes the same
    rounded = {key: value.astype(np.float32).astype(np.float64) if value.dtype == np.float64 else value
               for key, value in arrays.items()}
    betas, rotations = random_pose(seed, batch=2)
    out = run(body, betas, rotations, torch.float64)
    vertices, joints = reference_lbs(rounded, betas, rotations)
    # both float64: a chain of at most 8 4x4 products and sums of <= 207 terms on metre-sized values round at
    # ~1e-14 m; 1e-9 m leaves five orders of magnitude for the different summation orders
    np.testing.assert_allclose(out['vertices'], vertices, rtol=0, atol=1e-9)
    np.testing.assert_allclose(out['joints'], joints, rtol=0, atol=1e-9)


def test_float32_layer_within_its_rounding(body, arrays) -> None:
    betas, rotations = random_pose(2, batch=3)
    out = run(body, betas, rotations)
    vertices, joints = reference_lbs(arrays, betas, rotations)
    # float32 (eps 6e-8): inputs and buffers round at 6e-8 relative; the deepest chain (pelvis ... hand) is 8
    # rigid transforms of metre-sized coordinates, each adding a few eps; 8 * 4 * 6e-8 * 1 m ~ 2e-6 m. Measured
    # on this CPU: at most 6e-7 m over 3 seeds. 2e-5 m (0.02 mm) leaves a margin of ten over the estimate
    np.testing.assert_allclose(out['vertices'], vertices, rtol=0, atol=2e-5)
    np.testing.assert_allclose(out['joints'], joints, rtol=0, atol=2e-5)


def test_zero_pose_and_betas_give_the_template(body, arrays) -> None:
    out = run(body, np.zeros((2, 10)), np.broadcast_to(np.eye(3), (2, 24, 3, 3)))
    # float32 rounding of metre-sized coordinates: 6e-8 relative, plus the joint chain's rest translation
    # J - (sum of bone vectors), a few eps more
    np.testing.assert_allclose(out['vertices'], np.broadcast_to(arrays['v_template'], (2, 6890, 3)), atol=1e-6)
    np.testing.assert_allclose(out['joints'][0], arrays['J_regressor'] @ arrays['v_template'], atol=1e-6)


def _joint_distance(joints: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(joints[0, a] - joints[0, b]))


@pytest.mark.parametrize('beta, joints_pair, least_gain', [
    (2, (1, 7), 0.04),  # leg length: hip to ankle grows by ~6 cm per unit
    (3, (16, 20), 0.03),  # arm length: shoulder to wrist
    (4, (0, 12), 0.03),  # torso length: pelvis to neck
    (5, (16, 17), 0.05),  # shoulder width: 4 cm each side
    (0, (10, 15), 0.04),  # stature: foot to head, 4% of ~1.5 m
])
def test_betas_change_limb_lengths(body, beta: int, joints_pair, least_gain: float) -> None:
    identity = np.broadcast_to(np.eye(3), (1, 24, 3, 3))
    base = run(body, np.zeros((1, 10)), identity)['joints']
    betas = np.zeros((1, 10))
    betas[0, beta] = 1.0
    shaped = run(body, betas, identity)['joints']
    assert _joint_distance(shaped, *joints_pair) - _joint_distance(base, *joints_pair) > least_gain


def test_girth_beta_changes_the_surface_not_the_skeleton(body) -> None:
    identity = np.broadcast_to(np.eye(3), (1, 24, 3, 3))
    betas = np.zeros((1, 10))
    base = run(body, betas, identity)
    betas[0, 9] = 2.0  # limb girth
    thick = run(body, betas, identity)
    assert np.abs(thick['vertices'] - base['vertices']).max() > 0.005
    # the regressor's rings are centred on the limb axes: girth moves no joint (float32 rounding only)
    np.testing.assert_allclose(thick['joints'], base['joints'], atol=1e-6)


def test_coco_keypoints_are_the_documented_joints_and_vertices(body) -> None:
    betas, rotations = random_pose(3, batch=2)
    out = run(body, betas, rotations)
    for k, (name, kind, index) in enumerate(COCO_KEYPOINT_SOURCES):
        source = out['joints'][:, index] if kind == 'joint' else out['vertices'][:, index]
        np.testing.assert_array_equal(out['keypoints'][:, k], source, err_msg=name)
    assert [index for _, kind, index in COCO_KEYPOINT_SOURCES if kind == 'vertex'] == [332, 2800, 6260, 583, 4071]


def test_face_keypoints_sit_on_the_face(body) -> None:
    rest = run(body, np.zeros((1, 10)), np.broadcast_to(np.eye(3), (1, 24, 3, 3)))['keypoints'][0]
    nose, left_eye, right_eye, left_ear, right_ear = rest[:5]
    head, neck = body.J_regressor.double().numpy()[[15, 12]] @ body.v_template.double().numpy()
    assert nose[2] > left_eye[2] > left_ear[2] and nose[1] > head[1] > neck[1]  # in front, above the head joint
    assert left_eye[0] > 0 > right_eye[0] and left_ear[0] > left_eye[0] and right_ear[0] < right_eye[0]
    assert left_eye[1] > nose[1]


def test_registered_no_state_and_gradients(body) -> None:
    from pose_plugins.registry import MODELS
    built = MODELS.build(dict(type='pose_plugins.SyntheticSMPL'))
    assert isinstance(built, SMPL) and built.state_dict() == {} and list(built.parameters()) == []
    assert built.faces.shape == (13776, 3) and built.faces.dtype == np.int64
    betas = torch.zeros(1, 10, requires_grad=True)
    pose = torch.eye(3).expand(1, 24, 3, 3).clone().requires_grad_(True)
    out = built(shape=betas, rotmat=pose)
    (out['vertices'].sum() + out['keypoints'].sum()).backward()
    assert betas.grad.abs().sum() > 0 and pose.grad.abs().sum() > 0


@pytest.mark.parametrize('field, shape, pattern', [
    ('rotmat', (2, 72), r'rotmat must have shape \(B, 24, 3, 3\).*\(2, 72\)'),
    ('rotmat', (2, 23, 3, 3), r'rotmat must have shape \(B, 24, 3, 3\)'),
    ('shape', (2, 11), r'shape must have shape \(B, 10\)'),
    ('rotmat', (3, 24, 3, 3), r'rotmat .* batch size B of shape'),
])
def test_bad_input_shapes_name_the_field(body, field: str, shape, pattern: str) -> None:
    inputs = dict(shape=torch.zeros(2, 10), rotmat=torch.eye(3).expand(2, 24, 3, 3))
    inputs[field] = torch.zeros(shape)
    with pytest.raises(ValueError, match=pattern):
        body(**inputs)


def test_inputs_follow_the_layers_dtype(body) -> None:
    betas, rotations = random_pose(6, batch=1)
    as_float32, as_float64 = run(body, betas, rotations), run(body, betas, rotations, torch.float64)
    np.testing.assert_array_equal(as_float32['vertices'], as_float64['vertices'])  # float64 inputs cast first


def test_bad_num_betas() -> None:
    with pytest.raises(ValueError, match=r'num_betas must be an int in \[1, 10\]'):
        SyntheticSMPL(num_betas=11)


def test_smplx_reads_our_pkl_and_agrees(tmp_path, body) -> None:
    """SMPL's own layout as smplx reads it (plain pickle of our own file): the same mesh as our layer."""
    import smplx
    path = write_synthetic_smpl(tmp_path / 'SMPL_NEUTRAL.pkl')
    theirs = smplx.SMPL(model_path=str(path), num_betas=10)
    betas, rotations = random_pose(4, batch=1, max_angle=1.0)
    rotvec = torch.as_tensor(Rotation.from_matrix(rotations.reshape(-1, 3, 3)).as_rotvec().reshape(1, 72),
                             dtype=torch.float32)
    with torch.no_grad():
        them = theirs(betas=torch.as_tensor(betas, dtype=torch.float32), global_orient=rotvec[:, :3],
                      body_pose=rotvec[:, 3:], transl=torch.zeros(1, 3))
    ours = run(body, betas, rotations)
    # both float32; smplx goes through axis-angle -> Rodrigues, a few eps of extra rounding on the rotations
    np.testing.assert_allclose(them.vertices.double().numpy(), ours['vertices'], atol=2e-5)
    np.testing.assert_allclose(them.joints[:, :24].double().numpy(), ours['joints'], atol=2e-5)
    np.testing.assert_array_equal(theirs.faces, body.faces)


def test_model_path_gives_the_same_layer(tmp_path) -> None:
    path = write_synthetic_smpl(tmp_path / 'model.npz', seed=1)
    betas, rotations = random_pose(5, batch=1)
    from_file, in_memory = run(SMPL(model_path=str(path)), betas, rotations), run(SyntheticSMPL(seed=1), betas, rotations)
    for key in ('vertices', 'joints', 'keypoints'):
        np.testing.assert_array_equal(from_file[key], in_memory[key])
    with pytest.raises(FileNotFoundError, match='nowhere.npz does not exist'):
        SMPL(model_path=str(tmp_path / 'nowhere.npz'))
