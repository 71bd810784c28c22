"""Synthetic 3D people (``with_3d=True``): camera model, projection consistency, depth bounds and the depth cue."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from pose_plugins.apis.make_synthetic_coco import main as make_synthetic_coco_main
from pose_plugins.synthetic import (MAX_ROOT_DEPTH_MM, ROOT_INDICES, SyntheticCocoConfig, make_synthetic_coco,
                                    render_synthetic_image)
from pose_plugins.synthetic.drawing import depth_cue

# Small images keep the module at a few seconds (as in test_synthetic.py), now with 3D.
SMALL_3D = SyntheticCocoConfig(image_size=(128, 112), person_height=(64.0, 110.0), with_3d=True)
# One fully visible person on a noise-free image: every marker centre shows its own shaded colour.
CLEAN_3D = dataclasses.replace(SMALL_3D, people_per_image=(1, 1), truncation_prob=0.0, occlusion_prob=0.0,
                               noise_std=0.0)


def _files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def _load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def _points(ann: dict, field: str) -> np.ndarray:
    return np.asarray(ann[field], dtype=np.float64).reshape(-1, 3)


def _root_relative_depth(ann: dict) -> np.ndarray:
    """(K,) Z_j - mean Z of the hips."""
    points = _points(ann, 'keypoints_3d')
    return points[:, 2] - points[list(ROOT_INDICES), 2].mean()


def _project(points: np.ndarray, camera: dict) -> np.ndarray:
    """Pinhole projection of (K, 3) camera points with {'f': [fx, fy], 'c': [cx, cy]}: -> (K, 2) pixels."""
    return points[:, :2] / points[:, 2:] * np.asarray(camera['f']) + np.asarray(camera['c'])


def _render_annotations(config: SyntheticCocoConfig, seeds: range) -> list:
    return [ann for seed in seeds for ann in render_synthetic_image(np.random.default_rng(seed), config)[1]]


@pytest.fixture(scope='module')
def dataset_3d(tmp_path_factory) -> dict:
    """4 train / 3 val images with truncation, people seen from behind and 2 degenerate annotations per split."""
    config = dataclasses.replace(SMALL_3D, truncation_prob=0.5, back_facing_prob=0.3, num_degenerate_annotations=2)
    paths = make_synthetic_coco(tmp_path_factory.mktemp('synthetic_3d'), num_train_images=4, num_val_images=3,
                                seed=11, config=config)
    return dict(paths=paths, train=_load(paths['train_ann_file']), val=_load(paths['val_ann_file']))


# ---------------------------------------------------------------------------------------------------------------
# fields and camera


@pytest.mark.parametrize('split', ['train', 'val'])
def test_every_image_has_the_pinhole_camera(dataset_3d, split):
    images = dataset_3d[split]['images']
    assert images
    for image in images:  # f = focal_length * width, principal point at the image centre
        assert image['camera_param'] == {'f': [1.2 * 128, 1.2 * 128], 'c': [64.0, 56.0]}


@pytest.mark.parametrize('split', ['train', 'val'])
def test_projection_of_keypoints_3d_gives_the_2d_labels(dataset_3d, split):
    data = dataset_3d[split]
    cameras = {image['id']: image['camera_param'] for image in data['images']}
    people = [ann for ann in data['annotations'] if ann['num_keypoints'] > 0]
    unlabelled = 0
    for ann in people:
        keypoints = _points(ann, 'keypoints')
        points = _points(ann, 'keypoints_3d')
        assert points.shape == (17, 3) and np.all(points[:, 2] > 0), 'all 17 joints, in front of the camera'
        projected = _project(points, cameras[ann['image_id']])
        labelled = keypoints[:, 2] > 0
        # the 2D labels are rounded to 2 decimals (<= 0.005 px); keypoints_3d to 4 decimals of a millimetre
        np.testing.assert_allclose(projected[labelled], keypoints[labelled, :2], rtol=0, atol=0.0051)
        # unlabelled (visibility 0) joints are the ones outside the image: so are their projections
        outside = (projected < 0) | (projected > np.array([127.0, 111.0]))
        assert np.all(outside[~labelled].any(axis=1))
        unlabelled += int(np.count_nonzero(~labelled))
    assert unlabelled > 0, 'truncation_prob=0.5 should leave some joints outside the image'


def test_degenerate_annotations_get_zero_keypoints_3d(dataset_3d):
    degenerate = [ann for ann in dataset_3d['val']['annotations'] if ann['num_keypoints'] == 0]
    assert len(degenerate) == 2
    assert all(ann['keypoints_3d'] == [0] * 51 for ann in degenerate)


def test_info_records_the_3d_knobs(dataset_3d):
    config = dataset_3d['train']['info']['config']
    assert config['with_3d'] is True and config['focal_length'] == 1.2
    assert config['person_height_mm'] == [1500.0, 1900.0] and config['depth_shading'] == 0.8


# ---------------------------------------------------------------------------------------------------------------
# depth


def test_root_relative_depths_are_bounded_and_plausible():
    depths = np.stack([_root_relative_depth(ann) for ann in _render_annotations(SMALL_3D, range(12))])
    np.testing.assert_allclose(depths[:, list(ROOT_INDICES)].mean(axis=1), 0.0, atol=1e-3)
    assert np.abs(depths).max() <= MAX_ROOT_DEPTH_MM
    # a 3D pose, not a flat one: limbs leave the image plane by tens to hundreds of millimetres
    assert 50.0 < depths.std() < 400.0
    assert depths[:, 15:].std() > depths[:, 11:13].std(), 'ankles vary in depth more than the hips'


def test_extreme_foreshortening_is_scaled_into_the_bound():
    """foreshortening=1 allows segments perpendicular to the image: the largest depths hit the bound exactly."""
    config = dataclasses.replace(SMALL_3D, foreshortening=1.0, limb_angle_scale=2.0, person_height_mm=(2400.0, 2500.0))
    depths = np.stack([_root_relative_depth(ann) for ann in _render_annotations(config, range(12))])
    assert np.abs(depths).max() <= MAX_ROOT_DEPTH_MM + 1e-3
    assert np.abs(depths).max() > MAX_ROOT_DEPTH_MM - 1.0


@pytest.mark.parametrize('back_facing_prob, nose_is_nearer', [(0.0, True), (1.0, False)],
                         ids=['facing_camera', 'from_behind'])
def test_face_depth_follows_the_facing_direction(back_facing_prob, nose_is_nearer):
    config = dataclasses.replace(SMALL_3D, back_facing_prob=back_facing_prob)
    for ann in _render_annotations(config, range(3)):
        depth = _root_relative_depth(ann)
        assert (depth[0] < depth[3:5].mean()) == nose_is_nearer  # nose vs. ears


def test_person_size_matches_the_root_distance():
    """Z_root = f * height_mm / height_px: a person's 3D hip width in mm is about constant, its pixels are not."""
    config = dataclasses.replace(CLEAN_3D, rotation_range=0.0, limb_angle_scale=0.0, aspect_range=(1.0, 1.0),
                                 person_height_mm=(1700.0, 1700.0))
    widths_px, widths_mm = [], []
    for ann in _render_annotations(config, range(6)):
        keypoints, points = _points(ann, 'keypoints'), _points(ann, 'keypoints_3d')
        widths_px.append(np.linalg.norm(keypoints[11, :2] - keypoints[12, :2]))
        widths_mm.append(np.linalg.norm(points[11, :2] - points[12, :2]))
    assert np.ptp(widths_px) > 3.0
    # rest pose, no twist: the hips lie at the root depth, 2 * _HIP_HALF = 0.15 height units apart
    np.testing.assert_allclose(widths_mm, 0.15 * 1700.0, rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# the depth cue


def test_depth_cue_by_hand():
    radii = np.array([4.0, 4.0, 4.0])
    depth = np.array([0.0, -300.0, 300.0])  # at the root, nearer, farther; Z_root = 3000 mm
    greys, scaled = depth_cue(radii, depth, 3000.0, 0.8)
    weight = 0.8 * np.tanh(1.0)
    np.testing.assert_allclose(greys, [127.5, 127.5 * (1 + weight), 127.5 * (1 - weight)])
    np.testing.assert_allclose(scaled, [4.0, 4.0 * 3000 / 2700, 4.0 * 3000 / 3300])
    flat, _ = depth_cue(radii, depth, 3000.0, 0.0)
    np.testing.assert_allclose(flat, 127.5)


def test_rendered_marker_centres_are_brighter_when_nearer():
    """The cue is in the pixels: the centre of a nearer joint's marker is brighter, whatever the joint type."""
    samples = []
    for seed in range(10):
        image, (ann, ) = render_synthetic_image(np.random.default_rng(seed), CLEAN_3D)
        keypoints, depth = _points(ann, 'keypoints'), _root_relative_depth(ann)
        for k in np.flatnonzero(keypoints[:, 2] == 2):
            u, v = np.round(keypoints[k, :2]).astype(int)
            samples.append((depth[k], image[v, u].astype(np.float64).mean()))
    depth, grey = np.array(samples).T
    assert np.corrcoef(depth, grey)[0, 1] < -0.8
    assert grey[depth < -100.0].mean() > 150.0 and grey[depth > 100.0].mean() < 105.0


# ---------------------------------------------------------------------------------------------------------------
# determinism, validation, command line


def test_same_seed_gives_identical_files(tmp_path):
    first = _files(Path(make_synthetic_coco(tmp_path / 'a', num_train_images=2, num_val_images=1, seed=3,
                                            config=SMALL_3D)['data_root']))
    second = _files(Path(make_synthetic_coco(tmp_path / 'b', num_train_images=2, num_val_images=1, seed=3,
                                             config=SMALL_3D)['data_root']))
    assert sorted(first) == sorted(second) and len(first) == 6
    for name in first:
        assert first[name] == second[name], name


@pytest.mark.parametrize('overrides, field', [
    (dict(focal_length=0.1), 'focal_length'),
    (dict(person_height_mm=(1900.0, 1500.0)), 'person_height_mm'),
    (dict(depth_shading=1.5), 'depth_shading'),
    (dict(with_3d='yes'), 'with_3d'),
    (dict(with_3d=True, marker_radius=0.0), 'marker_radius'),
    (dict(with_3d=True, focal_length=0.3), 'focal_length'),  # nearest person 0.3*256*1500/208 = 554 mm away
], ids=['focal_length', 'person_height_mm', 'depth_shading', 'with_3d_type', 'no_markers', 'too_close'])
def test_config_rejects_bad_3d_values(overrides, field):
    with pytest.raises(ValueError, match=field):
        SyntheticCocoConfig(**overrides)


def test_cli_writes_the_same_3d_data_as_the_function(tmp_path):
    paths = make_synthetic_coco_main(['--out-dir', str(tmp_path / 'cli'), '--num-train', '1', '--num-val', '1', '--seed', '3',
                       '--image-size', '128', '112', '--person-height', '64', '110', '--with-3d',
                       '--person-height-mm', '1600', '1800'])
    config = dataclasses.replace(SMALL_3D, person_height_mm=(1600.0, 1800.0))
    expected = make_synthetic_coco(tmp_path / 'api', num_train_images=1, num_val_images=1, seed=3, config=config)
    assert _files(Path(paths['data_root'])) == _files(Path(expected['data_root']))
