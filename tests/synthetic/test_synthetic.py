"""Synthetic COCO people: determinism, COCO format, label semantics, and mmpose's dataset/metric on the output."""
import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose_plugins.apis.make_synthetic_coco import main as make_synthetic_coco_main
from pose_plugins.synthetic import (COCO_FLIP_INDICES, COCO_KEYPOINT_NAMES, COCO_SKELETON,
                                    SyntheticCocoConfig, make_synthetic_coco, render_synthetic_image)

# Small images keep the whole module at a few seconds; people still span most of the image.
SMALL = SyntheticCocoConfig(image_size=(128, 112), person_height=(64.0, 110.0))


def _make(root: Path, *, seed: int = 0, num_train: int = 3, num_val: int = 3,
          config: SyntheticCocoConfig = SMALL) -> dict:
    return make_synthetic_coco(root, num_train_images=num_train, num_val_images=num_val, seed=seed, config=config)


def _files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def _load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def _keypoints(ann: dict) -> np.ndarray:
    return np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)


@pytest.fixture(scope='module')
def dataset_dir(tmp_path_factory) -> dict:
    """3 train / 4 val images plus 4 degenerate annotations per split."""
    root = tmp_path_factory.mktemp('synthetic')
    config = dataclasses.replace(SMALL, num_degenerate_annotations=4)
    return _make(root, num_val=4, config=config)


# ---------------------------------------------------------------------------------------------------------------
# determinism


def test_same_seed_gives_identical_files(tmp_path):
    first = _files(Path(_make(tmp_path / 'a')['data_root']))
    second = _files(Path(_make(tmp_path / 'b')['data_root']))
    assert sorted(first) == sorted(second)
    assert len([name for name in first if name.endswith('.jpg')]) == 6
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_data(tmp_path):
    first = _files(Path(_make(tmp_path / 'a')['data_root']))
    second = _files(Path(_make(tmp_path / 'b', seed=1)['data_root']))
    assert sorted(first) == sorted(second)
    for name in ('annotations/person_keypoints_train2017.json', 'annotations/person_keypoints_val2017.json',
                 'train2017/000000000001.jpg', 'val2017/000000000001.jpg'):
        assert first[name] != second[name], name


def test_images_do_not_depend_on_the_number_generated(tmp_path):
    few, more = _make(tmp_path / 'few', num_train=2, num_val=1), _make(tmp_path / 'more', num_train=3, num_val=2)
    few_files, more_files = _files(Path(few['data_root'])), _files(Path(more['data_root']))
    for name in ('train2017/000000000001.jpg', 'train2017/000000000002.jpg', 'val2017/000000000001.jpg'):
        assert few_files[name] == more_files[name], name
    assert _load(few['train_ann_file'])['annotations'] == [
        a for a in _load(more['train_ann_file'])['annotations'] if a['image_id'] <= 2]


def test_render_is_a_function_of_the_generator_state():
    image_a, anns_a = render_synthetic_image(np.random.default_rng(7), SMALL)
    image_b, anns_b = render_synthetic_image(np.random.default_rng(7), SMALL)
    assert image_a.shape == (112, 128, 3) and image_a.dtype == np.uint8
    np.testing.assert_array_equal(image_a, image_b)
    assert anns_a == anns_b


# ---------------------------------------------------------------------------------------------------------------
# COCO format


def test_layout_and_returned_paths(dataset_dir):
    root = Path(dataset_dir['data_root'])
    assert dataset_dir['train_ann_file'] == str(root / 'annotations' / 'person_keypoints_train2017.json')
    assert dataset_dir['val_ann_file'] == str(root / 'annotations' / 'person_keypoints_val2017.json')
    assert dataset_dir['train_img_dir'] == str(root / 'train2017')
    assert dataset_dir['val_img_dir'] == str(root / 'val2017')
    assert dataset_dir['val_bbox_file'] == str(root / 'person_detection_results' / 'val_gt_boxes.json')
    assert sorted(p.name for p in (root / 'val2017').iterdir()) == [f'{i:012d}.jpg' for i in range(1, 5)]


@pytest.mark.parametrize('split', ['train', 'val'])
def test_pycocotools_loads_a_valid_person_keypoints_file(dataset_dir, split):
    from pycocotools.coco import COCO
    coco = COCO(dataset_dir[f'{split}_ann_file'])
    assert coco.getCatIds() == [1]
    category = coco.loadCats(1)[0]
    assert category['name'] == 'person' and category['supercategory'] == 'person'
    assert tuple(category['keypoints']) == COCO_KEYPOINT_NAMES
    assert [tuple(link) for link in category['skeleton']] == list(COCO_SKELETON)

    anns = coco.loadAnns(coco.getAnnIds())
    assert len({a['id'] for a in anns}) == len(anns)
    for image in coco.loadImgs(coco.getImgIds()):
        pixels = cv2.imread(str(Path(dataset_dir[f'{split}_img_dir']) / image['file_name']))
        assert pixels.shape == (image['height'], image['width'], 3) == (112, 128, 3)
        assert coco.getAnnIds(imgIds=image['id']), 'every image has people'

    for ann in anns:
        kpts = _keypoints(ann)
        assert kpts.shape == (17, 3) and ann['category_id'] == 1 and ann['iscrowd'] == 0
        assert set(kpts[:, 2].tolist()) <= {0.0, 1.0, 2.0}
        assert np.all(kpts[kpts[:, 2] == 0, :2] == 0), 'visibility 0 must be stored as x = y = 0'
        assert ann['num_keypoints'] == np.count_nonzero(kpts[:, 2])
        x, y, w, h = ann['bbox']
        assert 0 <= x and 0 <= y and x + w <= 128 and y + h <= 112 and w >= 0 and h >= 0
        labelled = kpts[kpts[:, 2] > 0, :2]
        assert np.all((labelled >= [x, y]) & (labelled <= [x + w, y + h])), 'bbox contains the labelled keypoints'
        assert ann['segmentation'] and all(len(p) >= 6 and len(p) % 2 == 0 for p in ann['segmentation'])
        if ann['num_keypoints'] > 0:
            assert w > 0 and h > 0 and ann['area'] > 0
            coco.annToMask(ann)  # polygons decode


def test_people_are_large_enough_for_small_crops():
    config = SyntheticCocoConfig(truncation_prob=0.0)
    heights = [ann['bbox'][3] for seed in range(6)
               for ann in render_synthetic_image(np.random.default_rng(seed), config)[1]]
    assert min(heights) >= 64


def test_detection_file_holds_the_valid_val_boxes(dataset_dir):
    val = _load(dataset_dir['val_ann_file'])
    dets = _load(dataset_dir['val_bbox_file'])
    valid = [a for a in val['annotations'] if a['num_keypoints'] > 0]
    assert dets == [dict(bbox=a['bbox'], category_id=1, image_id=a['image_id'], score=1.0) for a in valid]


# ---------------------------------------------------------------------------------------------------------------
# label semantics


def test_visibility_flags_follow_truncation_and_occlusion():
    config = dataclasses.replace(SMALL, truncation_prob=1.0, occlusion_prob=1.0, people_per_image=(2, 3))
    flags = []
    for seed in range(8):
        _, anns = render_synthetic_image(np.random.default_rng(seed), config)
        flags.extend(_keypoints(a)[:, 2] for a in anns)
    counts = np.bincount(np.concatenate(flags).astype(int), minlength=3)
    assert np.all(counts > 0), f'expected truncated (0), occluded (1) and visible (2) joints, got {counts}'


def test_no_occlusion_no_truncation_single_person_is_fully_visible():
    config = dataclasses.replace(SMALL, truncation_prob=0.0, occlusion_prob=0.0, people_per_image=(1, 1))
    for seed in range(4):
        _, (ann, ) = render_synthetic_image(np.random.default_rng(seed), config)
        assert np.all(_keypoints(ann)[:, 2] == 2) and ann['num_keypoints'] == 17


@pytest.mark.parametrize('back_facing_prob, left_is_right_of_right', [(0.0, True), (1.0, False)],
                         ids=['facing_camera', 'from_behind'])
def test_left_right_convention(back_facing_prob, left_is_right_of_right):
    """Facing the camera, the person's left joints are on the image's right (flip-consistent rule)."""
    config = dataclasses.replace(SMALL, rotation_range=0.0, limb_angle_scale=0.0, truncation_prob=0.0,
                                 occlusion_prob=0.0, people_per_image=(1, 1), back_facing_prob=back_facing_prob)
    _, (ann, ) = render_synthetic_image(np.random.default_rng(0), config)
    kpts = _keypoints(ann)
    left, right = kpts[[1, 3, 5, 7, 9, 11, 13, 15], 0], kpts[[2, 4, 6, 8, 10, 12, 14, 16], 0]
    assert np.all((left > right) == left_is_right_of_right)
    assert list(COCO_FLIP_INDICES[1:]) == [2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    if back_facing_prob:
        assert np.all(kpts[:3, 2] == 1), 'nose and eyes of a person seen from behind are labelled, not visible'


def test_degenerate_annotations(tmp_path, dataset_dir):
    val = _load(dataset_dir['val_ann_file'])
    degenerate = [a for a in val['annotations'] if a['num_keypoints'] == 0]
    assert len(degenerate) == 4
    zero_area = [a for a in degenerate if a['bbox'][2] == 0 and a['bbox'][3] == 0]
    no_keypoints = [a for a in degenerate if a['bbox'][2] > 0 and a['bbox'][3] > 0]
    assert len(zero_area) == len(no_keypoints) == 2
    assert all(not any(a['keypoints']) for a in degenerate)
    # switching them on changes nothing else
    plain = _make(tmp_path, num_val=4)
    assert _files(Path(plain['val_img_dir'])) == _files(Path(dataset_dir['val_img_dir']))
    assert _load(plain['val_ann_file'])['annotations'] == [a for a in val['annotations'] if a['num_keypoints']]


@pytest.mark.parametrize('field, value', [
    ('image_size', (16, 128)), ('people_per_image', (3, 1)), ('person_height', (120.0, 60.0)),
    ('occlusion_prob', 1.5), ('rotation_range', -1.0), ('min_keypoints_in_image', 0), ('jpeg_quality', 101),
    ('num_degenerate_annotations', -1), ('marker_radius', 0.5)])
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        SyntheticCocoConfig(**{field: value})


def test_make_rejects_bad_counts(tmp_path):
    with pytest.raises(ValueError, match='num_val_images'):
        make_synthetic_coco(tmp_path, num_train_images=1, num_val_images=-1, seed=0)


# ---------------------------------------------------------------------------------------------------------------
# mmpose reads it


def _coco_dataset(paths: dict, **kwargs):
    from mmpose.datasets import CocoDataset
    return CocoDataset(data_root=paths['data_root'], ann_file='annotations/person_keypoints_val2017.json',
                       data_prefix=dict(img='val2017/'), data_mode='topdown', pipeline=[], **kwargs)


@pytest.mark.parametrize('test_mode', [False, True], ids=['train_mode', 'test_mode'])
def test_mmpose_coco_dataset_loads_and_skips_degenerate(dataset_dir, test_mode):
    dataset = _coco_dataset(dataset_dir, test_mode=test_mode)
    valid = [a for a in _load(dataset_dir['val_ann_file'])['annotations'] if a['num_keypoints'] > 0]
    assert len(dataset) == len(valid)
    assert list(dataset.metainfo['flip_indices']) == list(COCO_FLIP_INDICES)
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        ann = valid[index]
        assert Path(info['img_path']).is_file() and info['id'] == ann['id']
        assert info['keypoints'].shape == (1, 17, 2) and info['keypoints_visible'].shape == (1, 17)
        np.testing.assert_allclose(info['keypoints'][0], _keypoints(ann)[:, :2], atol=1e-4)
        x, y, w, h = ann['bbox']
        np.testing.assert_allclose(info['bbox'][0], [x, y, min(x + w, 127), min(y + h, 111)], atol=1e-4)


def test_mmpose_coco_dataset_reads_the_detection_file(dataset_dir):
    dataset = _coco_dataset(dataset_dir, test_mode=True, bbox_file=dataset_dir['val_bbox_file'])
    dets = _load(dataset_dir['val_bbox_file'])
    assert len(dataset) == len(dets)
    info = dataset.get_data_info(0)
    np.testing.assert_allclose(info['bbox'][0, 2:] - info['bbox'][0, :2], dets[0]['bbox'][2:], atol=1e-4)


def _coco_metric_results(paths: dict, *, use_ann_file: bool, swap_left_right: bool = False) -> dict:
    """mmpose's CocoMetric fed the ground truth as top-down predictions (one data sample per person)."""
    from mmpose.evaluation import CocoMetric
    dataset = _coco_dataset(paths, test_mode=True)
    metric = CocoMetric(ann_file=paths['val_ann_file'] if use_ann_file else None)
    metric.dataset_meta = dataset.metainfo
    order = list(COCO_FLIP_INDICES) if swap_left_right else list(range(17))
    samples = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        wh = info['bbox'][:, 2:] - info['bbox'][:, :2]
        samples.append(dict(
            id=info['id'], img_id=info['img_id'], category_id=1, ori_shape=(112, 128),
            raw_ann_info=info['raw_ann_info'],
            gt_instances=dict(bbox_scales=wh * 1.25, bbox_scores=np.ones(1, dtype=np.float32)),
            pred_instances=dict(keypoints=info['keypoints'][:, order], keypoint_scores=info['keypoints_visible'])))
    metric.process([], samples)
    return metric.evaluate(size=len(samples))


@pytest.mark.parametrize('use_ann_file', [True, False], ids=['ann_file', 'raw_ann_info'])
def test_mmpose_coco_metric_scores_ground_truth_as_perfect(dataset_dir, use_ann_file):
    results = _coco_metric_results(dataset_dir, use_ann_file=use_ann_file)
    assert results['coco/AP'] == pytest.approx(1.0)
    assert results['coco/AR'] == pytest.approx(1.0)


def test_mmpose_coco_metric_punishes_left_right_swaps(dataset_dir):
    """Control for the test above: the metric sees our left/right labels (swapped GT scores near 0)."""
    assert _coco_metric_results(dataset_dir, use_ann_file=True, swap_left_right=True)['coco/AP'] < 0.2


# ---------------------------------------------------------------------------------------------------------------
# command line


def test_cli_writes_the_same_data_as_the_function(tmp_path):
    paths = make_synthetic_coco_main(['--out-dir', str(tmp_path / 'cli'), '--num-train', '2', '--num-val', '1', '--seed', '3',
                       '--image-size', '128', '112', '--person-height', '64', '110', '--side-colours'])
    config = dataclasses.replace(SMALL, side_colours=True)
    expected = make_synthetic_coco(tmp_path / 'api', num_train_images=2, num_val_images=1, seed=3, config=config)
    assert _files(Path(paths['data_root'])) == _files(Path(expected['data_root']))
    assert _load(paths['val_ann_file'])['info']['config']['side_colours'] is True


# ---------------------------------------------------------------------------------------------------------------
# the default output is pinned (the 3D option must not change a byte of it)

# ``make_synthetic_coco(out, num_train_images=2, num_val_images=2, seed=5)`` with the default config. The JPEG bytes
# are left out (they are the encoder's); the rendered pixels before encoding are pinned instead.
PINNED_DEFAULT_SHA256 = {
    'annotations/person_keypoints_train2017.json': '324cd4e97d3f68c1e3cb8444a0cfc1f8d6a212f769e0cf3531dbb9579650a758',
    'annotations/person_keypoints_val2017.json': '0f9e8bc23e8149d231a5fc853d30767c1b10e3ebef9b6d2d5d0ad4c86f950413',
    'person_detection_results/val_gt_boxes.json': 'efc83998461c0172aa751100a33d63a115bd3d3204676e10abf68bb375ea59b6',
    'pixels': '2b4d5c0f2e438d3b09b7df2da7bdfec5cd697b8dcd2291e53000bf75750ab5b3',
}


def test_default_output_is_byte_identical_to_the_pinned_one(tmp_path):
    import hashlib
    paths = make_synthetic_coco(tmp_path, num_train_images=2, num_val_images=2, seed=5)
    root = Path(paths['data_root'])
    measured = {name: hashlib.sha256((root / name).read_bytes()).hexdigest()
                for name in PINNED_DEFAULT_SHA256 if name != 'pixels'}
    pixels = hashlib.sha256()
    for split_index in (0, 1):
        for image_index in range(2):  # the per-image generator of make_synthetic_coco (module docstring)
            rng = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(split_index, image_index)))
            pixels.update(render_synthetic_image(rng)[0].tobytes())
    measured['pixels'] = pixels.hexdigest()
    assert measured == PINNED_DEFAULT_SHA256
    assert 'with_3d' not in _load(paths['train_ann_file'])['info']['config']
