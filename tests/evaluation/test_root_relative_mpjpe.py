"""Tests of :class:`pose_plugins.evaluation.metrics.root_relative_mpjpe.RootRelativeMPJPE` and of
:mod:`pose_plugins.evaluation.functional`, against a float64 per-instance reference written out here."""
from typing import Dict, List, Sequence, Tuple

import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from mmpose.evaluation.functional import keypoint_mpjpe as mmpose_keypoint_mpjpe
from mmpose.structures import PoseDataSample

from pose_plugins.evaluation.functional import (back_project, mpjpe, pa_mpjpe, procrustes_align,
                                                procrustes_transform, root_relative)
from pose_plugins.evaluation.metrics import RootRelativeMPJPE

K = 17
ROOTS = (11, 12)  # COCO hips
FOCAL = np.array([1145.0, 1143.8])
CENTER = np.array([512.5, 515.4])


# ------------------------------------------------------------------------------------------------------- helpers


def _random_poses(rng: np.random.Generator, n: int, k: int = K) -> np.ndarray:
    """(n, k, 3) camera coordinates in mm: bodies about 1.8 m across, 3-7 m in front of the camera."""
    body = rng.uniform(-900.0, 900.0, size=(n, k, 3))
    position = np.stack([rng.uniform(-1500, 1500, n), rng.uniform(-500, 500, n), rng.uniform(3000, 7000, n)], -1)
    return body + position[:, None]


def _project(camera_xyz: np.ndarray, focal: np.ndarray = FOCAL, center: np.ndarray = CENTER) -> np.ndarray:
    """(N, K, 2) pixels of (N, K, 3) camera coordinates."""
    return camera_xyz[..., :2] / camera_xyz[..., 2:] * focal + center


def _uvz_of(camera_xyz: np.ndarray, roots: Sequence[int] = ROOTS) -> np.ndarray:
    """The exact (u, v, z_rel) of (N, K, 3) camera coordinates."""
    z_rel = camera_xyz[..., 2] - camera_xyz[:, list(roots), 2].mean(axis=1, keepdims=True)
    return np.concatenate([_project(camera_xyz), z_rel[..., None]], axis=-1)


def _reference_similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Kabsch-Umeyama for one instance, in the (3, K) layout of HMR/SPIN's ``compute_similarity_transform``."""
    s1, s2 = source.T, target.T
    mu1, mu2 = s1.mean(axis=1, keepdims=True), s2.mean(axis=1, keepdims=True)
    x1, x2 = s1 - mu1, s2 - mu2
    var1 = np.sum(x1 ** 2)
    u, _, vh = np.linalg.svd(x1 @ x2.T)
    v = vh.T
    z = np.eye(3)
    z[2, 2] = np.sign(np.linalg.det(u @ v.T))
    rotation = v @ z @ u.T
    scale = np.trace(rotation @ x1 @ x2.T) / var1
    translation = mu2 - scale * rotation @ mu1
    return (scale * rotation @ s1 + translation).T


def _reference_metrics(pred_uvz: np.ndarray, gt: np.ndarray, focal: np.ndarray, center: np.ndarray,
                       roots: Sequence[int]) -> Dict[str, float]:
    """The 3DMPPE protocol with explicit loops over instances and joints."""
    errors: Dict[str, List[float]] = {'MPJPE': [], 'PA-MPJPE': [], 'MPJPE-xy': [], 'MPJPE-z': []}
    for n in range(len(gt)):
        root_z = sum(gt[n, r, 2] for r in roots) / len(roots)
        pred_xyz = np.zeros((K, 3))
        for k in range(K):
            u, v, z_rel = pred_uvz[n, k]
            z = root_z + z_rel
            pred_xyz[k] = [(u - center[0]) * z / focal[0], (v - center[1]) * z / focal[1], z]
        pred_rel = pred_xyz - sum(pred_xyz[r] for r in roots) / len(roots)
        gt_rel = gt[n] - sum(gt[n, r] for r in roots) / len(roots)
        aligned = _reference_similarity(pred_rel, gt_rel)
        for k in range(K):
            diff = pred_rel[k] - gt_rel[k]
            errors['MPJPE'].append(np.sqrt(diff @ diff))
            errors['MPJPE-xy'].append(np.sqrt(diff[:2] @ diff[:2]))
            errors['MPJPE-z'].append(abs(diff[2]))
            aligned_diff = aligned[k] - gt_rel[k]
            errors['PA-MPJPE'].append(np.sqrt(aligned_diff @ aligned_diff))
    return {name: float(np.mean(values)) for name, values in errors.items()}


def _data_samples(pred_uvz: np.ndarray, gt: np.ndarray, *, focal: np.ndarray = FOCAL,
                  center: np.ndarray = CENTER) -> List[dict]:
    """One mmpose-style dict per instance: ``PoseDataSample.to_dict()`` with the two metainfo keys."""
    samples = []
    for i, (pred_i, gt_i) in enumerate(zip(pred_uvz, gt)):
        sample = PoseDataSample(metainfo=dict(
            id=i, img_id=i, keypoints_3d=gt_i[None], camera_param=dict(f=focal.copy(), c=center.copy())))
        sample.pred_instances = InstanceData(keypoints=pred_i[None].astype(np.float32),
                                             keypoint_scores=np.ones((1, K), dtype=np.float32))
        samples.append(sample.to_dict())
    return samples


def _run_metric(samples: List[dict], *, batch_size: int = 3, **kwargs) -> Dict[str, float]:
    metric = RootRelativeMPJPE(**kwargs)
    for start in range(0, len(samples), batch_size):
        metric.process(data_batch=None, data_samples=samples[start:start + batch_size])
    assert len(metric.results) == len(samples)
    return metric.compute_metrics(metric.results)


def _noisy_scene(seed: int, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """GT (n, K, 3) and a noisy float64 prediction (u, v, z_rel) of it."""
    rng = np.random.default_rng(seed)
    gt = _random_poses(rng, n)
    pred_uvz = _uvz_of(gt) + np.concatenate(
        [rng.normal(0, 8.0, size=(n, K, 2)), rng.normal(0, 120.0, size=(n, K, 1))], axis=-1)
    return pred_uvz, gt


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q * np.linalg.det(q)  # det +1


# ------------------------------------------------------------------------------------------ against the reference


@pytest.mark.parametrize('roots', [ROOTS, (0,), (3, 5, 16)], ids=['hips', 'single', 'three'])
@pytest.mark.parametrize('seed', range(4))
def test_metric_matches_loop_reference(seed: int, roots: Tuple[int, ...]) -> None:
    pred_uvz, gt = _noisy_scene(seed, n=7)
    # the samples carry float32 keypoints as mmpose's do: the reference sees the same rounded values
    pred_uvz = pred_uvz.astype(np.float32).astype(np.float64)
    got = _run_metric(_data_samples(pred_uvz, gt), root_indices=roots)
    want = _reference_metrics(pred_uvz, gt, FOCAL, CENTER, roots)
    assert set(got) == {'MPJPE', 'PA-MPJPE', 'MPJPE-xy', 'MPJPE-z'}
    for name in want:
        assert got[name] == pytest.approx(want[name], abs=1e-6), name
    assert 0 < got['PA-MPJPE'] < got['MPJPE']


@pytest.mark.parametrize('seed', range(4))
def test_pa_mpjpe_matches_reference_and_mmpose(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    gt = rng.normal(0, 300.0, size=(9, K, 3))
    pred = 0.8 * gt @ _random_rotation(rng).T + rng.normal(0, 50.0, size=gt.shape) + 40.0
    want = np.mean([np.linalg.norm(_reference_similarity(p, g) - g, axis=-1).mean() for p, g in zip(pred, gt)])
    assert pa_mpjpe(pred=pred, gt=gt) == pytest.approx(want, abs=1e-6)
    mmpose_value = mmpose_keypoint_mpjpe(pred, gt, np.ones((9, K), dtype=bool), alignment='procrustes')
    assert pa_mpjpe(pred=pred, gt=gt) == pytest.approx(mmpose_value, abs=1e-6)
    assert mpjpe(pred=pred, gt=gt) == pytest.approx(
        mmpose_keypoint_mpjpe(pred, gt, np.ones((9, K), dtype=bool), alignment='none'), abs=1e-9)


# ------------------------------------------------------------------------------------------- hand-computed cases


def test_perfect_prediction_gives_zero() -> None:
    gt = _random_poses(np.random.default_rng(1), n=5)
    got = _run_metric(_data_samples(_uvz_of(gt), gt))
    assert got == pytest.approx({'MPJPE': 0.0, 'PA-MPJPE': 0.0, 'MPJPE-xy': 0.0, 'MPJPE-z': 0.0}, abs=1e-3)
    # and exactly in float64 through the functions
    gt_rel = root_relative(keypoints=gt, root_indices=ROOTS)
    for value in (mpjpe(pred=gt_rel, gt=gt_rel), mpjpe(pred=gt_rel, gt=gt_rel, dims=(0, 1)),
                  mpjpe(pred=gt_rel, gt=gt_rel, dims=(2,))):
        assert value == 0.0
    assert pa_mpjpe(pred=gt_rel, gt=gt_rel) == pytest.approx(0.0, abs=1e-9)


def test_round_trip_projection_gives_zero_mpjpe() -> None:
    """GT 3D -> (u, v) with the camera and z_rel = Z - Z_root as the prediction -> back to GT, float64."""
    rng = np.random.default_rng(2)
    gt = _random_poses(rng, n=6)
    root_z = gt[:, list(ROOTS), 2].mean(axis=1)
    camera = back_project(keypoints=_uvz_of(gt), root_depth=root_z, focal=FOCAL, center=CENTER)
    np.testing.assert_allclose(camera, gt, rtol=0, atol=1e-6)
    # per-instance cameras, shape (N, 2)
    focal = rng.uniform(900, 1500, size=(6, 2))
    center = rng.uniform(300, 700, size=(6, 2))
    uvz = np.concatenate([_project(gt, focal[:, None], center[:, None]), _uvz_of(gt)[..., 2:]], axis=-1)
    np.testing.assert_allclose(back_project(keypoints=uvz, root_depth=root_z, focal=focal, center=center), gt,
                               rtol=0, atol=1e-6)
    # through the metric, with float64 keypoints as given
    samples = _data_samples(_uvz_of(gt), gt)
    for sample, uvz_i in zip(samples, _uvz_of(gt)):
        sample['pred_instances']['keypoints'] = uvz_i[None]
    got = _run_metric(samples)
    for name in ('MPJPE', 'PA-MPJPE', 'MPJPE-xy', 'MPJPE-z'):
        assert got[name] == pytest.approx(0.0, abs=1e-6), name


def test_similarity_transformed_prediction_has_zero_pa_mpjpe() -> None:
    rng = np.random.default_rng(3)
    gt = rng.normal(0, 300.0, size=(8, K, 3))
    rotations = np.stack([_random_rotation(rng) for _ in range(8)])
    scales = rng.uniform(0.5, 2.0, size=8)
    pred = scales[:, None, None] * np.einsum('nij,nkj->nki', rotations, gt) + rng.normal(0, 500.0, size=(8, 1, 3))
    assert pa_mpjpe(pred=pred, gt=gt) == pytest.approx(0.0, abs=1e-6)
    assert mpjpe(pred=pred, gt=gt) > 100.0
    np.testing.assert_allclose(procrustes_align(pred=pred, gt=gt), gt, rtol=0, atol=1e-6)
    scale, rotation, _ = procrustes_transform(pred=pred, gt=gt)
    np.testing.assert_allclose(scale, 1 / scales, rtol=1e-9)
    np.testing.assert_allclose(rotation, np.transpose(rotations, (0, 2, 1)), rtol=0, atol=1e-9)


@pytest.mark.parametrize('depth_offset', [37.5, -120.0])
def test_depth_offset_on_non_root_joints(depth_offset: float) -> None:
    """z_rel + d on every non-root joint: the root-relative depth error is |d| on K - 2 joints and 0 on the roots."""
    gt = _random_poses(np.random.default_rng(4), n=5)
    pred_uvz = _uvz_of(gt)
    non_root = np.setdiff1d(np.arange(K), ROOTS)
    pred_uvz[:, non_root, 2] += depth_offset
    samples = _data_samples(pred_uvz, gt)
    for sample, uvz_i in zip(samples, pred_uvz):
        sample['pred_instances']['keypoints'] = uvz_i[None]
    got = _run_metric(samples)
    assert got['MPJPE-z'] == pytest.approx(abs(depth_offset) * (K - len(ROOTS)) / K, abs=1e-9)
    assert got['MPJPE'] > got['MPJPE-z']  # the back-projected X, Y move with the depth too


def test_reflected_prediction_gets_a_proper_rotation() -> None:
    rng = np.random.default_rng(5)
    gt = rng.normal(0, 300.0, size=(6, K, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # a mirror image: the best orthogonal map is the reflection
    _, rotation, _ = procrustes_transform(pred=mirrored, gt=gt)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(rotation @ np.transpose(rotation, (0, 2, 1)), np.broadcast_to(np.eye(3), (6, 3, 3)),
                               rtol=0, atol=1e-9)
    # without the determinant fix the mirror image would align perfectly; with it an error remains
    got = pa_mpjpe(pred=mirrored, gt=gt)
    assert got > 10.0
    want = np.mean([np.linalg.norm(_reference_similarity(p, g) - g, axis=-1).mean() for p, g in zip(mirrored, gt)])
    assert got == pytest.approx(want, abs=1e-6)


def test_degenerate_prediction_maps_to_gt_centroid() -> None:
    gt = np.random.default_rng(6).normal(0, 300.0, size=(2, K, 3))
    pred = np.zeros_like(gt)
    scale, _, _ = procrustes_transform(pred=pred, gt=gt)
    np.testing.assert_array_equal(scale, 0.0)
    np.testing.assert_allclose(procrustes_align(pred=pred, gt=gt), np.broadcast_to(gt.mean(1, keepdims=True), gt.shape),
                               rtol=0, atol=1e-9)


# --------------------------------------------------------------------------------------- mmengine and registries


def test_evaluator_applies_pose3d_prefix() -> None:
    pred_uvz, gt = _noisy_scene(seed=7, n=5)
    pred_uvz = pred_uvz.astype(np.float32).astype(np.float64)
    samples = _data_samples(pred_uvz, gt)
    # one sample with a Human3.6M-style (2, 1) camera vector
    samples[0]['camera_param'] = dict(f=FOCAL.reshape(2, 1), c=CENTER.reshape(2, 1))
    evaluator = Evaluator([RootRelativeMPJPE()])
    evaluator.process(data_samples=samples[:2])
    evaluator.process(data_samples=samples[2:])
    got = evaluator.evaluate(len(samples))
    want = _reference_metrics(pred_uvz, gt, FOCAL, CENTER, ROOTS)
    assert set(got) == {f'pose3d/{name}' for name in want}
    for name, value in want.items():
        assert got[f'pose3d/{name}'] == pytest.approx(value, abs=1e-6)
    custom = Evaluator([RootRelativeMPJPE(prefix='h36m')])
    custom.process(data_samples=samples)
    assert custom.evaluate(len(samples))['h36m/MPJPE'] == pytest.approx(want['MPJPE'], abs=1e-6)


def test_builds_from_mmpose_registry_under_mmpose_scope() -> None:
    from mmpose.registry import METRICS as MMPOSE_METRICS
    with DefaultScope.overwrite_default_scope('mmpose'):
        metric = MMPOSE_METRICS.build(dict(type='pose_plugins.RootRelativeMPJPE', root_indices=[0, 1]))
        mmpose_metric = MMPOSE_METRICS.build(dict(type='MPJPE'))
    assert type(metric) is RootRelativeMPJPE
    assert metric.root_indices == (0, 1) and metric.prefix == 'pose3d'
    assert type(mmpose_metric) is not RootRelativeMPJPE


# ----------------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize('key', ['keypoints_3d', 'camera_param'])
def test_missing_metainfo_names_the_key_and_the_fix(key: str) -> None:
    pred_uvz, gt = _noisy_scene(seed=8, n=1)
    sample = _data_samples(pred_uvz, gt)[0]
    del sample[key]
    with pytest.raises(KeyError, match=rf"'{key}'.*PackPoseInputs\(meta_keys=\.\.\.\).*CocoKeypoint3DDataset"):
        RootRelativeMPJPE().process(data_batch=None, data_samples=[sample])


@pytest.mark.parametrize('case, error, pattern', [
    ('no_focal', KeyError, r"camera_param has no 'f'"),
    ('keypoints_2d', ValueError, r"pred_instances\['keypoints'\] must have shape \(N, K, 3\).*\(1, 17, 2\)"),
    ('gt_shape', ValueError, r'keypoints_3d must have the shape .*\(1, 17, 3\).*\(17, 3\)'),
    ('root_out_of_range', ValueError, r'root_indices must be distinct ints in \[0, K\) = \[0, 17\).*\(11, 17\)'),
    ('gt_nan', ValueError, r'keypoints_3d has non-finite values .* \[0, 3\]'),
], ids=['no_focal', 'keypoints_2d', 'gt_shape', 'root_out_of_range', 'gt_nan'])
def test_bad_data_sample_errors(case: str, error: type, pattern: str) -> None:
    pred_uvz, gt = _noisy_scene(seed=9, n=1)
    sample = _data_samples(pred_uvz, gt)[0]
    roots = ROOTS
    if case == 'no_focal':
        del sample['camera_param']['f']
    elif case == 'keypoints_2d':
        sample['pred_instances']['keypoints'] = sample['pred_instances']['keypoints'][..., :2]
    elif case == 'gt_shape':
        sample['keypoints_3d'] = sample['keypoints_3d'][0]
    elif case == 'root_out_of_range':
        roots = (11, 17)
    elif case == 'gt_nan':
        sample['keypoints_3d'][0, 3, 1] = np.nan
    with pytest.raises(error, match=pattern):
        RootRelativeMPJPE(root_indices=roots).process(data_batch=None, data_samples=[sample])


@pytest.mark.parametrize('roots', [(), (11, 11), (-1,), (1.0,), (True,), '11', 11],
                         ids=['empty', 'duplicate', 'negative', 'float', 'bool', 'str', 'int'])
def test_bad_root_indices(roots) -> None:
    with pytest.raises(ValueError, match='root_indices must be a non-empty sequence of distinct non-negative ints'):
        RootRelativeMPJPE(root_indices=roots)


def test_empty_results_raise() -> None:
    with pytest.raises(ValueError, match='RootRelativeMPJPE got no results'):
        RootRelativeMPJPE().compute_metrics([])


@pytest.mark.parametrize('kwargs, pattern', [
    (dict(pred=np.zeros((2, K, 3)), gt=np.zeros((3, K, 3))), r'same shape, got \(2, 17, 3\) and \(3, 17, 3\)'),
    (dict(pred=np.zeros((2, K, 2)), gt=np.zeros((2, K, 2))), r'pred must have shape \(N, K, 3\)'),
    (dict(pred=np.zeros((0, K, 3)), gt=np.zeros((0, K, 3))), r'N, K >= 1, got shape \(0, 17, 3\)'),
    (dict(pred=np.zeros((2, K, 3)), gt=np.zeros((2, K, 3)), dims=(0, 3)), r'dims must be .*\[0, 3\]'),
    (dict(pred=np.zeros((2, K, 3)), gt=np.zeros((2, K, 3)), dims=()), r'dims must be'),
], ids=['shapes', 'two_dims', 'empty', 'bad_dim', 'no_dim'])
def test_mpjpe_errors(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        mpjpe(**kwargs)


@pytest.mark.parametrize('kwargs, pattern', [
    (dict(focal=np.zeros(2)), r'focal must be non-zero'),
    (dict(focal=np.ones(3)), r'focal must have shape \(2,\) or \(N, 2\) = \(4, 2\), got shape \(3,\)'),
    (dict(center=np.ones((3, 2))), r'center must have shape .*got shape \(3, 2\)'),
    (dict(root_depth=np.ones(3)), r'root_depth must have shape \(N,\) = \(4,\), got shape \(3,\)'),
], ids=['zero_focal', 'focal_shape', 'center_shape', 'root_depth_shape'])
def test_back_project_errors(kwargs: dict, pattern: str) -> None:
    args = dict(keypoints=np.ones((4, K, 3)), root_depth=np.full(4, 5000.0), focal=FOCAL, center=CENTER)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        back_project(**args)
