"""Synthetic mesh people over Anny (``SyntheticMeshConfig(body_model='anny')``): annotations consistent with the
camera and the body model, deterministic, a mirrored prior, joint pads, the mean parameters, the writer."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from pose_plugins.geometry import axis_angle_to_matrix
from pose_plugins.synthetic import COCO_FLIP_INDICES, make_synthetic_mesh_coco
from pose_plugins.synthetic.body_priors import BODY_PRIORS
from pose_plugins.synthetic.geometry import pinhole_camera
from pose_plugins.synthetic.mesh_body import EYE_TYPE, cached_mesh_body
from pose_plugins.synthetic.people_mesh import SyntheticMeshConfig, mean_body_parameters, render_mesh_image

CFG = SyntheticMeshConfig.from_options(dict(body_model='anny', image_size=[128, 128], person_height=[80.0, 110.0],
                                            people_per_image=[1, 2]))
MIRROR = np.array([1.0, -1.0, -1.0])  # axis-angle mirrored across x = 0 (the body's left-right axis)


@pytest.fixture(scope='module')
def rendered():
    return [render_mesh_image(np.random.default_rng(seed), CFG) for seed in range(3)]


def _pose(poses, shapes):
    """Anny on axis-angle poses (P, J, 3) and shapes (P, S) -> float64 forward outputs."""
    body = cached_mesh_body('anny').body
    with torch.no_grad():
        out = body(shape=torch.as_tensor(np.asarray(shapes), dtype=torch.float32),
                   rotmat=axis_angle_to_matrix(torch.as_tensor(np.asarray(poses), dtype=torch.float32)))
    return {key: value.double().numpy() for key, value in out.items()}


def test_fields_name_the_body_and_have_its_sizes(rendered):
    body = cached_mesh_body('anny').body
    for _, annotations in rendered:
        for ann in annotations:
            assert ann['body_model'] == 'anny' and ann['has_body'] == 1
            assert len(ann['body_pose']) == 3 * body.num_joints and len(ann['body_shape']) == body.num_shape
            assert len(ann['body_transl']) == 3 and len(ann['keypoints_3d']) == 3 * 17
            assert all(0.0 <= value <= 1.0 for value in ann['body_shape'])  # phenotypes


def test_keypoints_project_from_keypoints_3d(rendered):
    focal, centre = pinhole_camera(CFG.coco)
    for _, annotations in rendered:
        for ann in annotations:
            keypoints = np.array(ann['keypoints'], dtype=np.float64).reshape(17, 3)
            points = np.array(ann['keypoints_3d']).reshape(17, 3) / 1000.0
            labelled = keypoints[:, 2] > 0
            assert labelled.sum() >= CFG.coco.min_keypoints_in_image
            projected = points[:, :2] / points[:, 2:] * focal + centre
            # 0.005 px rounding of the keypoints + f * 0.005 mm * (1 + |X| / Z) / Z < 0.001 px of keypoints_3d's
            # (f = 154 px, Z > f * 1.37 m / 110 px = 1.9 m for the shortest people)
            np.testing.assert_allclose(projected[labelled], keypoints[labelled, :2], atol=0.006)


def test_reposing_the_body_reproduces_keypoints_3d(rendered):
    body = cached_mesh_body('anny').body
    annotations = [ann for _, anns in rendered for ann in anns]
    posed = _pose(np.array([a['body_pose'] for a in annotations]).reshape(len(annotations), body.num_joints, 3),
                  [a['body_shape'] for a in annotations])
    for ann, keypoints in zip(annotations, posed['keypoints']):
        # JSON rounding: keypoints_3d 5 um, body_transl 0.5 um, phenotypes 5e-7 (< 0.5 um each at < 1 m per
        # unit), rotations 0.5 urad per component (< 1.3 um at 1.5 m from a joint, < 16 um over the ~12 joints
        # from the root to a wrist); float32 posing < 1 um: < 25 um
        np.testing.assert_allclose(keypoints + np.array(ann['body_transl']), np.array(ann['keypoints_3d']).reshape(
            17, 3) / 1000.0, atol=3e-5)


def test_same_generator_state_same_image():
    first, again = (render_mesh_image(np.random.default_rng(11), CFG) for _ in range(2))
    other = render_mesh_image(np.random.default_rng(12), CFG)
    np.testing.assert_array_equal(first[0], again[0])
    assert first[1] == again[1]
    assert not np.array_equal(first[0], other[0])


def test_standing_people_are_person_height_tall():
    # no pose, no turn: a person's box is their rest stature at the sampled height in pixels, whatever the
    # phenotypes (a constant nominal stature of 1.7 m would make Anny's 1.4-2.2 m people up to ~25% off)
    options = dict(body_model='anny', image_size=[160, 160], person_height=[110.0, 110.0], people_per_image=[1, 1],
                   pose_scale=0.0, yaw_range=0.0, tilt_range=0.0, rotation_range=0.0, truncation_prob=0.0,
                   occlusion_prob=0.0)
    cfg = SyntheticMeshConfig.from_options(options)
    statures = []
    for seed in range(8):
        _, (ann, ) = render_mesh_image(np.random.default_rng(seed), cfg)
        rest = _pose(np.zeros((1, cfg.mesh_body.body.num_joints, 3)), [ann['body_shape']])
        statures.append(np.ptp(rest['vertices'][0, :, 2]))  # along Anny's up axis, z
        if ann['bbox'][1] == 0 or ann['bbox'][1] + ann['bbox'][3] == 160:
            continue  # cut by the image's edge (the placement keeps the root 0.3 heights inside, not the head)
        # perspective: the toes, up to 0.12 m nearer than the root and 1.5 m below the optical axis at Z > f *
        # 1.37 m / 110 px = 2.4 m (f = 192 px), lower the box's bottom by f * 1.5 m * 0.12 m / Z^2 < 7 px; the
        # box's whole pixels: 1 px
        assert abs(ann['bbox'][3] - 110.0) <= 7.0 + 1.0, (ann['bbox'], statures[-1])
    # the test tells the two choices apart: a constant 1.7 m would put someone's box off by over twice the bound
    assert np.max(np.abs(110.0 * np.array(statures) / 1.7 - 110.0)) > 2 * (7.0 + 1.0), statures


def test_the_right_side_mirrors_its_own_draw_of_the_left_distribution():
    mesh = cached_mesh_body('anny')
    body, prior = mesh.body, mesh.prior
    rng = np.random.default_rng(0)
    poses = np.stack([prior.sample_pose(rng, body) for _ in range(2000)])  # (N, J, 3)
    pairs = [(body.joint_names.index(name), body.flip_indices[body.joint_names.index(name)]) for name in prior.pose
             if name.endswith('.L')]
    assert len(pairs) == 8
    for left, right in pairs:
        mirrored = poses[:, right] * MIRROR
        # the sample means differ by sampling alone: 5 standard errors of the difference of two means of N draws
        margin = 5.0 * np.sqrt((poses[:, left].var(0) + mirrored.var(0)) / len(poses)) + 1e-12
        assert np.all(np.abs(mirrored.mean(0) - poses[:, left].mean(0)) <= margin), body.joint_names[left]
        assert not np.allclose(mirrored, poses[:, left])  # its own draw, not a copy
    arm, arm_right = pairs[[body.joint_names[j] for j, _ in pairs].index('upperarm01.L')]
    # the mirror matters: unmirrored, the right arm's mean abduction has the opposite sign (about +-0.6 rad)
    assert abs(poses[:, arm_right, 1].mean() - poses[:, arm, 1].mean()) > 1.0


def test_a_mirrored_pose_gives_the_mirrored_body():
    # Anny's 'local-ref' deltas are in the model frame, x the body's left: the mirror image of a pose is each
    # joint's partner's rotation with (x, -y, -z), and the keypoints mirror across x = 0
    mesh = cached_mesh_body('anny')
    body = mesh.body
    rng = np.random.default_rng(1)
    pose = np.stack([mesh.prior.sample_pose(rng, body) for _ in range(3)])
    shape = np.stack([mesh.prior.sample_shape(rng, body) for _ in range(3)])
    out = _pose(np.concatenate([np.zeros((1, body.num_joints, 3)), pose, pose[:, list(body.flip_indices)] * MIRROR]),
                np.concatenate([[body.neutral_shape], shape, shape]))
    keypoints = out['keypoints']
    flipped = keypoints[:, list(COCO_FLIP_INDICES)] * np.array([-1.0, 1.0, 1.0])
    assert np.abs(flipped[0] - keypoints[0]).max() < 1e-3  # Anny's rest keypoints: symmetric to 0.3 mm
    # posing keeps that order; one wrong sign would move a limb of a pose ~10-60 degrees from rest by centimetres
    assert np.abs(flipped[4:] - keypoints[1:4]).max() < 3e-3


def test_joint_pads_lie_at_the_rest_keypoints():
    mesh = cached_mesh_body('anny')
    body = mesh.body
    with torch.no_grad():
        rest = body(shape=torch.tensor([body.neutral_shape]), rotmat=torch.eye(3).repeat(1, body.num_joints, 1, 1))
    vertices, keypoints = rest['vertices'][0].double().numpy(), rest['keypoints'][0].double().numpy()
    types = mesh.pad_types
    assert types.shape == (body.num_vertices, ) and not types.flags.writeable
    assert set(np.unique(types)) == {EYE_TYPE, -1, 3, 4, 5, 6, 7, 8}
    for kind, left in ((3, 5), (4, 7), (5, 9), (6, 11), (7, 13), (8, 15)):  # COCO's left shoulder ... ankle
        members = vertices[types == kind]
        distance = np.minimum(np.linalg.norm(members - keypoints[left], axis=1),
                              np.linalg.norm(members - keypoints[left + 1], axis=1))
        depth = np.linalg.norm(vertices[:, None] - keypoints[None, [left, left + 1]], axis=2).min()
        assert len(members) > 20, kind
        assert distance.max() < max(0.08, np.hypot(depth, 0.055)), kind  # the pad radius (mesh_body)
        assert (members[:, 0] > 0).any() and (members[:, 0] < 0).any(), kind  # both sides (x = 0 the mid-plane)
    eyes = vertices[types == EYE_TYPE]
    assert np.linalg.norm(eyes[:, None] - keypoints[None, 1:3], axis=2).min(1).max() < 0.018
    assert eyes[:, 2].min() > keypoints[5:7, 2].max()  # above the shoulders


def test_joint_pads_change_the_anny_pixels_only():
    image, annotations = render_mesh_image(np.random.default_rng(4), CFG)
    padded, padded_annotations = render_mesh_image(np.random.default_rng(4), dataclasses.replace(CFG, joint_pads=True))
    assert padded_annotations == annotations
    assert (np.abs(padded.astype(int) - image.astype(int)).max(axis=2) > 0).any()


def test_mean_body_parameters_of_a_hand_made_case():
    quarter = [0.0, 0.0, np.pi / 2]  # 90 degrees about z: rows (0, -1, 0), (1, 0, 0), (0, 0, 1)
    poses = np.array([quarter + [np.pi / 3, 0, 0], quarter + [-np.pi / 3, 0, 0]])  # (N = 2, J * 3 = 6)
    mean = mean_body_parameters(poses, np.array([[0.2, 0.5, 1.0], [0.4, 0.5, 0.0]]))
    # joint 1: the mean of +-60 degrees about x is diag(1, 0.5, 0.5), re-orthonormalised the identity; 6D is the
    # first two columns, row by row (R00, R01, R10, R11, R20, R21)
    np.testing.assert_allclose(mean['pose'], [0, -1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0], atol=1e-6)  # float32
    np.testing.assert_allclose(mean['shape'], [0.3, 0.5, 0.5], atol=1e-7)  # float32 of the means
    np.testing.assert_array_equal(mean['cam'], np.array([0.9, 0.0, 0.0], dtype=np.float32))
    assert {key: value.dtype for key, value in mean.items()} == dict(pose=np.float32, shape=np.float32,
                                                                        cam=np.float32)
    with pytest.raises(ValueError, match=r'poses must be \(N, J \* 3\).*\(2, 5\)'):
        mean_body_parameters(poses[:, :5], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r'shapes must be \(N, S\) with the N = 2'):
        mean_body_parameters(poses, np.zeros((3, 3)))


@pytest.mark.parametrize('name', ['smplx', 'Anny', ''])
def test_an_unknown_body_model_is_named(name):
    with pytest.raises(ValueError, match=rf"body_model must be one of \['synthetic_smpl', 'anny'\], got '{name}'"):
        SyntheticMeshConfig(body_model=name)
    with pytest.raises(ValueError, match=rf"got '{name}'"):
        SyntheticMeshConfig.from_options(dict(body_model=name))


def test_every_prior_names_joints_of_its_body():
    for name, prior in BODY_PRIORS.items():
        prior.check(cached_mesh_body(name).body)  # raises naming a missing joint
    with pytest.raises(ValueError, match=r"pose names joints \['left_hip', 'left_knee', .*\] that AnnyBody lacks"):
        BODY_PRIORS['synthetic_smpl'].check(cached_mesh_body('anny').body)


def test_the_writer_names_anny_and_writes_its_mean(tmp_path):
    paths = make_synthetic_mesh_coco(tmp_path, num_train_images=2, num_val_images=1, seed=0,
                                     config=dataclasses.replace(CFG, coco=dataclasses.replace(
                                         CFG.coco, image_size=(96, 96), person_height=(60.0, 80.0))))
    train = json.loads(open(paths['train_ann_file']).read())
    assert train['info']['body_model'] == 'anny' and train['info']['config']['body_model'] == 'anny'
    assert 'Anny' in train['info']['description'] and 'NOT SMPL' in train['info']['description']
    assert paths['mean_params'].endswith('body_mean_params.npz')
    mean = np.load(paths['mean_params'])
    expected = mean_body_parameters(np.array([a['body_pose'] for a in train['annotations']]),
                                    np.array([a['body_shape'] for a in train['annotations']]))
    assert mean['pose'].shape == (6 * 26, ) and mean['shape'].shape == (6, )
    for key, value in expected.items():
        np.testing.assert_array_equal(mean[key], value)
