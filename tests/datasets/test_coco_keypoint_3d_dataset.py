"""CocoKeypoint3DDataset: built from a config, root-relative depth as the third keypoint column, mmpose's top-down
pipeline keeps it, and bad annotations fail with the file and the annotation/image id."""
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpose.registry import DATASETS as MMPOSE_DATASETS

from pose_plugins.datasets import CocoKeypoint3DDataset
from pose_plugins.synthetic import SyntheticCocoConfig, make_synthetic_coco

ANN_FILE = 'annotations/person_keypoints_train2017.json'
META_KEYS = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape', 'img_shape', 'input_size',
             'input_center', 'input_scale', 'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
             'keypoints_3d', 'camera_param')
PIPELINE = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', prob=1.0, direction='horizontal'),
    dict(type='TopdownAffine', input_size=(128, 128)),
    dict(type='PackPoseInputs', meta_keys=META_KEYS, pack_transformed=True),
]


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> Path:
    """4 train / 2 val images of the default 3D synthetic people, 2 degenerate annotations per split."""
    root = tmp_path_factory.mktemp('synthetic_3d_dataset')
    make_synthetic_coco(root, num_train_images=4, num_val_images=2, seed=1,
                        config=SyntheticCocoConfig(with_3d=True, num_degenerate_annotations=2))
    return root


def _build(data_root: Path, **kwargs) -> CocoKeypoint3DDataset:
    """Through mmpose's registry under mmpose's default scope, as a config does."""
    cfg = dict(type='pose_plugins.CocoKeypoint3DDataset', data_root=str(data_root), ann_file=ANN_FILE,
               data_prefix=dict(img='train2017/'), pipeline=[])
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('mmpose'):
        return MMPOSE_DATASETS.build(cfg)


def _annotations(data_root: Path) -> list:
    data = json.loads((data_root / ANN_FILE).read_text())
    return [ann for ann in data['annotations'] if ann['num_keypoints'] > 0]


def _edited_copy(data_root: Path, tmp_path: Path, edit) -> Path:
    """A copy of the data set whose train annotation file went through ``edit(data) -> None``."""
    root = tmp_path / 'edited'
    shutil.copytree(data_root, root)
    data = json.loads((root / ANN_FILE).read_text())
    edit(data)
    (root / ANN_FILE).write_text(json.dumps(data))
    return root


# ---------------------------------------------------------------------------------------------------------------
# data infos


def test_registry_builds_our_class(data_root):
    dataset = _build(data_root)
    assert type(dataset) is CocoKeypoint3DDataset
    assert len(dataset) == len(_annotations(data_root)) > 0, 'every person, no degenerate annotation'


def test_data_info_fields(data_root):
    from mmpose.datasets import CocoDataset
    dataset = _build(data_root)
    plain = CocoDataset(data_root=str(data_root), ann_file=ANN_FILE, data_prefix=dict(img='train2017/'), pipeline=[])
    assert len(plain) == len(dataset)
    for index, ann in enumerate(_annotations(data_root)):
        info, plain_info = dataset.get_data_info(index), plain.get_data_info(index)
        assert info['id'] == ann['id']
        for name in ('keypoints', 'keypoints_3d'):
            assert info[name].shape == (1, 17, 3) and info[name].dtype == np.float32, name
        assert info['keypoints_visible'].dtype == np.float32
        np.testing.assert_array_equal(info['keypoints'][..., :2], plain_info['keypoints'])
        np.testing.assert_array_equal(info['keypoints_visible'], plain_info['keypoints_visible'])
        np.testing.assert_array_equal(info['bbox'], plain_info['bbox'])

        expected_3d = np.asarray(ann['keypoints_3d'], dtype=np.float64).reshape(1, 17, 3)
        np.testing.assert_allclose(info['keypoints_3d'], expected_3d, rtol=1e-6)
        z_rel = info['keypoints'][0, :, 2]
        np.testing.assert_allclose(z_rel, expected_3d[0, :, 2] - expected_3d[0, [11, 12], 2].mean(), atol=1e-3)
        assert abs(z_rel[[11, 12]].mean()) < 1e-3, 'the root (mean of the hips) is at depth 0'

        camera = info['camera_param']
        assert set(camera) == {'f', 'c'}
        for name, value in (('f', [307.2, 307.2]), ('c', [128.0, 128.0])):
            assert camera[name].shape == (2, ) and camera[name].dtype == np.float32
            np.testing.assert_allclose(camera[name], value)


def test_root_indices_choose_the_root(data_root):
    info = _build(data_root, root_indices=(0, ), test_mode=True).get_data_info(0)
    assert info['keypoints'][0, 0, 2] == 0.0
    depth = info['keypoints_3d'][0, :, 2]
    np.testing.assert_allclose(info['keypoints'][0, :, 2], depth - depth[0], atol=1e-3)


def test_top_down_pipeline_keeps_the_depth_column(data_root):
    dataset = _build(data_root, pipeline=PIPELINE)
    flip_indices = dataset.metainfo['flip_indices']
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        sample = dataset[index]['data_samples']
        width = sample.ori_shape[1]
        assert sample.flip is True
        keypoints = sample.gt_instances.keypoints  # original image, flipped
        assert keypoints.shape == (1, 17, 3)
        # RandomFlip mirrors x and swaps left/right rows; the depth moves with its row, unchanged
        np.testing.assert_allclose(keypoints[..., 2], info['keypoints'][:, flip_indices, 2])
        np.testing.assert_allclose(keypoints[..., 0], width - 1 - info['keypoints'][:, flip_indices, 0], atol=1e-3)
        # TopdownAffine maps only u, v into the 128 x 128 input
        transformed = sample.gt_instances.transformed_keypoints
        assert transformed.shape == (1, 17, 3)
        np.testing.assert_allclose(transformed[..., 2], keypoints[..., 2])
        visible = sample.gt_instances.keypoints_visible[0] > 0
        assert np.all((transformed[0, visible, :2] > -1.0) & (transformed[0, visible, :2] < 129.0))
        # the 3D ground truth and the camera travel as metainfo, untouched
        np.testing.assert_array_equal(sample.keypoints_3d, info['keypoints_3d'])
        np.testing.assert_array_equal(sample.camera_param['f'], info['camera_param']['f'])


# ---------------------------------------------------------------------------------------------------------------
# errors


def _drop(field: str, index: int = 0):
    def edit(data: dict) -> None:
        del data['annotations'][index][field]
    return edit


def _set_annotation(field: str, value, index: int = 0):
    def edit(data: dict) -> None:
        data['annotations'][index][field] = value
    return edit


def _set_camera(value, index: int = 0):
    def edit(data: dict) -> None:
        if value is None:
            del data['images'][index]['camera_param']
        else:
            data['images'][index]['camera_param'] = value
    return edit


@pytest.mark.parametrize('edit, message', [
    (_drop('keypoints_3d'), r'annotation id 1 \(image id 1\) has no "keypoints_3d"'),
    (_set_annotation('keypoints_3d', [1.0] * 50), r'annotation id 1 \(image id 1\) .*50 values'),
    (_set_annotation('keypoints_3d', [[1.0, 2.0, 3.0]] * 17), r'annotation id 1 .*not a flat list'),
    (_set_annotation('keypoints_3d', [float('nan')] * 51), r'annotation id 1 .*non-finite'),
    (_set_camera(None), r'image id 1 \(file \'000000000001.jpg\'\) has no "camera_param"'),
    (_set_camera({'f': [300.0], 'c': [128.0, 128.0]}), r"image id 1 .*camera_param\['f'\] = \[300.0\]"),
    (_set_camera({'f': [300.0, -300.0], 'c': [128.0, 128.0]}), r"camera_param\['f'\].*positive"),
    (_set_camera({'f': [300.0, 300.0]}), r"camera_param\['c'\] = None"),
], ids=['no_keypoints_3d', 'short_keypoints_3d', 'nested_keypoints_3d', 'nan_keypoints_3d', 'no_camera',
        'short_focal', 'negative_focal', 'no_centre'])
def test_bad_3d_fields_name_the_file_and_the_id(data_root, tmp_path, edit, message):
    root = _edited_copy(data_root, tmp_path, edit)
    with pytest.raises(ValueError, match=re.escape(str(root / ANN_FILE)) + '.*' + message):
        _build(root)


def test_instances_coco_drops_need_no_3d_fields(data_root, tmp_path):
    """The degenerate annotations are skipped before their keypoints_3d is read."""
    def edit(data: dict) -> None:
        for ann in data['annotations']:
            if ann['num_keypoints'] == 0:
                del ann['keypoints_3d']
    assert len(_build(_edited_copy(data_root, tmp_path, edit))) == len(_annotations(data_root))


def test_a_2d_only_file_is_rejected(tmp_path):
    root = tmp_path / 'plain'
    make_synthetic_coco(root, num_train_images=1, num_val_images=0, seed=1)
    with pytest.raises(ValueError, match='has no "keypoints_3d"'):
        _build(root)


@pytest.mark.parametrize('kwargs, message', [
    (dict(bbox_file='person_detection_results/val_gt_boxes.json', test_mode=True), 'ground-truth boxes.*bbox_file'),
    (dict(data_mode='bottomup'), "data_mode='topdown' only"),
    (dict(root_indices=()), 'root_indices'),
    (dict(root_indices=(11, 11)), 'root_indices'),
    (dict(root_indices=(11, -1)), 'root_indices'),
    (dict(root_indices=(11, 17)), r'root_indices \(11, 17\) out of range for the 17 keypoints'),
], ids=['bbox_file', 'bottomup', 'empty_root', 'repeated_root', 'negative_root', 'root_out_of_range'])
def test_bad_arguments(data_root, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _build(data_root, **kwargs)
