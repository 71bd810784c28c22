"""The synthetic mesh people, CocoMeshDataset's layout and GenerateMeshTarget's flip / rotation of the 3D ground
truth."""
import copy
import json

import numpy as np
import pytest
import torch

from mmpose.datasets.transforms import GetBBoxCenterScale, LoadImage, TopdownAffine

from pose_plugins.datasets import CocoMeshDataset
from pose_plugins.synthetic import COCO_FLIP_INDICES, SyntheticMeshConfig, make_synthetic_mesh_coco
from pose_plugins.datasets.transforms.mesh_transforms import GenerateMeshTarget
from pose_plugins.body_models import load_mean_params
from pose_plugins.synthetic import SyntheticSMPL
from pose_plugins.geometry import axis_angle_to_matrix


@pytest.fixture(scope='module')
def mesh_set(tmp_path_factory):
    """3 train / 1 val images of 128 x 128 (under 1 s)."""
    root = tmp_path_factory.mktemp('mesh_coco')
    cfg = SyntheticMeshConfig.from_options(dict(image_size=(128, 128), person_height=(80.0, 110.0)))
    make_synthetic_mesh_coco(root, num_train_images=3, num_val_images=1, seed=0, config=cfg)
    return root


@pytest.fixture(scope='module')
def body():
    return SyntheticSMPL().eval()


def _dataset(root, ann='train', **kwargs):
    return CocoMeshDataset(data_root=str(root), ann_file=f'annotations/person_keypoints_{ann}2017.json',
                           data_prefix=dict(img=f'{ann}2017/'), pipeline=[], **kwargs)


def _body(body, pose, betas):
    rotmat = axis_angle_to_matrix(torch.as_tensor(pose, dtype=torch.float32).reshape(-1, 24, 3))
    with torch.no_grad():
        return body(shape=torch.as_tensor(betas, dtype=torch.float32), rotmat=rotmat)


def test_dataset_reads_the_layout_and_it_is_consistent(mesh_set, body):
    dataset = _dataset(mesh_set)
    assert len(dataset) >= 3
    raw = json.loads((mesh_set / 'annotations/person_keypoints_train2017.json').read_text())
    for index in range(len(dataset)):
        info = dataset[index]
        assert info['body_pose'].shape == (1, 72) and info['body_shape'].shape == (1, 10)
        assert info['has_body'].tolist() == [1.0] and info['has_keypoints_3d'].tolist() == [1.0]
        assert info['keypoints_3d'].shape == (1, 17, 3)
        ann = next(a for a in raw['annotations'] if a['id'] == info['id'])
        # keypoints_3d (metres) = the body model on the body parameters, moved by body_transl: the rounding of the
        # file (pose 1e-6 rad, keypoints 0.01 mm) and float32 skinning stay far below 0.1 mm
        posed = _body(body, info['body_pose'], info['body_shape'])['keypoints'][0].numpy()
        np.testing.assert_allclose(posed + np.array(ann['body_transl']), info['keypoints_3d'][0], atol=1e-4)
        # the labelled 2D keypoints are the pinhole projection of keypoints_3d (0.01 px rounding; 1e-3 px float)
        camera = info['camera_param']
        k3d = info['keypoints_3d'][0].astype(np.float64)
        projected = k3d[:, :2] / k3d[:, 2:] * camera['f'] + camera['c']
        labelled = info['keypoints_visible'][0] > 0
        np.testing.assert_allclose(info['keypoints'][0][labelled], projected[labelled], atol=0.02)
    # the training people's mean parameters, in the format the head starts from
    pose, betas, cam = load_mean_params(str(mesh_set / 'body_mean_params.npz'), SyntheticSMPL())
    mean_betas = np.mean([a['body_shape'] for a in raw['annotations']], axis=0)
    np.testing.assert_allclose(betas.numpy(), mean_betas, atol=1e-6)  # float32 of a mean of O(1) values
    assert pose.shape == (144, ) and cam.tolist() == pytest.approx([0.9, 0.0, 0.0])


def test_layout_without_smpl_and_bad_fields(mesh_set, tmp_path, caplog):
    data = json.loads((mesh_set / 'annotations/person_keypoints_train2017.json').read_text())
    for key in ('body_pose', 'body_shape', 'has_body', 'keypoints_3d'):
        data['annotations'][0].pop(key)
    data['annotations'][1]['body_pose'] = data['annotations'][1]['body_pose'][:71]
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations/person_keypoints_train2017.json').write_text(json.dumps(data))
    (tmp_path / 'train2017').symlink_to(mesh_set / 'train2017')
    dataset = _dataset(tmp_path)
    ids = [dataset[i]['id'] for i in range(len(dataset))]
    plain = dataset[ids.index(data['annotations'][0]['id'])]
    assert plain['has_body'].tolist() == [0.0] and plain['has_keypoints_3d'].tolist() == [0.0]
    assert not plain['body_pose'].any()
    assert data['annotations'][1]['id'] not in ids
    (skipped, ) = [s for s in dataset.skipped if s[1] == data['annotations'][1]['id']]
    assert skipped[2] == 'body_pose' and 'is not 3 * J finite numbers' in skipped[3]


def _sample(dataset, index, *, flip=False, rotation=0.0, with_vertices=False):
    """One sample through mmpose's LoadImage, GetBBoxCenterScale, (RandomFlip), TopdownAffine and
    GenerateMeshTarget, with a fixed rotation."""
    from mmpose.datasets.transforms import GetBBoxCenterScale, LoadImage, RandomFlip, TopdownAffine
    results = copy.deepcopy(dataset[index])
    results = GetBBoxCenterScale()(LoadImage()(results))
    if flip:
        results = RandomFlip(prob=1.0, direction='horizontal')(results)
    results['bbox_rotation'] = np.array([rotation], dtype=np.float32)
    results = TopdownAffine(input_size=(64, 64))(results)
    return GenerateMeshTarget(body_model=dict(type='pose_plugins.SyntheticSMPL'), with_vertices=with_vertices)(results)


def test_flip_mirrors_the_smpl_ground_truth(mesh_set, body):
    dataset = _dataset(mesh_set)
    plain, flipped = _sample(dataset, 0), _sample(dataset, 0, flip=True)
    flip = list(COCO_FLIP_INDICES)
    mirror = np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(flipped['keypoints_3d'][0], (plain['keypoints_3d'][0] * mirror)[flip], atol=1e-6)
    # the mirrored SMPL pose gives the mirrored body (the synthetic model is left/right symmetric; float32
    # skinning ~1e-6 m)
    k_plain = _body(body, plain['body_pose'], plain['body_shape'])['keypoints'][0].numpy()
    k_flip = _body(body, flipped['body_pose'], flipped['body_shape'])['keypoints'][0].numpy()
    np.testing.assert_allclose(k_flip, (k_plain * mirror)[flip], atol=1e-5)
    # the 2D labels: left and right swapped, heights unchanged (x mirrored about the crop centre)
    np.testing.assert_allclose(flipped['keypoint_labels'][0, :, 1], plain['keypoint_labels'][0, flip, 1], atol=1e-5)


def test_rotation_turns_the_3d_ground_truth_with_the_crop(mesh_set, body):
    dataset = _dataset(mesh_set)
    plain, turned = _sample(dataset, 0), _sample(dataset, 0, rotation=25.0)

    def angle(points, a, b):  # direction of the mid-shoulder -> mid-hip vector in the image plane
        v = points[..., b, :2].mean(-2) - points[..., a, :2].mean(-2)
        return np.arctan2(v[..., 1], v[..., 0])

    shoulders, hips = [5, 6], [11, 12]
    turn_2d = angle(turned['keypoint_labels'][0], shoulders, hips) - angle(plain['keypoint_labels'][0], shoulders,
                                                                          hips)
    turn_3d = angle(turned['keypoints_3d'][0], shoulders, hips) - angle(plain['keypoints_3d'][0], shoulders, hips)
    assert abs(np.rad2deg(turn_2d)) == pytest.approx(25.0, abs=0.1)  # the crop is a similarity of the image
    assert turn_3d == pytest.approx(turn_2d, abs=1e-4)  # the 3D ground truth turned the same way
    # the global orientation turned with it: the posed body's keypoints equal the turned keypoints_3d (relative)
    posed = _body(body, turned['body_pose'], turned['body_shape'])['keypoints'][0].numpy()
    relative = turned['keypoints_3d'][0] - turned['keypoints_3d'][0, hips].mean(0)
    np.testing.assert_allclose(posed - posed[hips].mean(0), relative, atol=1e-4)
    # evaluation ground truth with the body model: vertices and keypoints in one frame
    evaluated = _sample(dataset, 0, with_vertices=True)
    assert evaluated['vertices'].shape == (1, 6890, 3)
    np.testing.assert_allclose(evaluated['keypoints_3d'][0] - evaluated['keypoints_3d'][0, hips].mean(0),
                               plain['keypoints_3d'][0] - plain['keypoints_3d'][0, hips].mean(0), atol=1e-4)


def test_smpls_published_layout_and_one_body_model_per_file(mesh_set, tmp_path):
    """SMPL's published layout (``smpl_pose``, ``smpl_betas``, ``has_smpl``: EFT / SPIN) reads as the generic one;
    a pose of another length than the file's first is skipped with the reason; the mesh target refuses a pose that
    is not its body model's, naming both sizes."""
    data = json.loads((mesh_set / 'annotations/person_keypoints_train2017.json').read_text())
    first = data['annotations'][0]
    first.update(smpl_pose=first.pop('body_pose'), smpl_betas=first.pop('body_shape'), has_smpl=first.pop('has_body'))
    data['annotations'][1]['body_pose'] = data['annotations'][1]['body_pose'] + [0.0, 0.0, 0.0]  # 25 joints
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations/person_keypoints_train2017.json').write_text(json.dumps(data))
    (tmp_path / 'train2017').symlink_to(mesh_set / 'train2017')
    dataset = _dataset(tmp_path)
    ids = [dataset[i]['id'] for i in range(len(dataset))]
    smpl = dataset[ids.index(first['id'])]
    assert smpl['has_body'].tolist() == [1.0]
    np.testing.assert_array_equal(smpl['body_pose'][0], np.float32(first['smpl_pose']))
    (skipped, ) = [s for s in dataset.skipped if s[1] == data['annotations'][1]['id']]
    assert skipped[2] == 'body_pose' and '75 numbers, while earlier annotations of this file have 72' in skipped[3]
    results = GetBBoxCenterScale()(LoadImage()(copy.deepcopy(smpl)))
    results = TopdownAffine(input_size=(64, 64))(results)
    with pytest.raises(ValueError, match=r'body_pose of 72 and a body_shape of 10 numbers, but the body model '
                                         r'AnnyBody has 26 joints \(pose 78\) and 6 shape parameters'):
        GenerateMeshTarget(body_model=dict(type='pose_plugins.AnnyBody'))(results)
    with pytest.raises(ValueError, match=r'body_model must be the head.s body-model config'):
        GenerateMeshTarget(body_model=None)
