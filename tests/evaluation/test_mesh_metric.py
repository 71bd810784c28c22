"""MeshMetric (MPJPE, PA-MPJPE, PVE in mm) and functional.pve against a float64 reference written here: loops over
instances, joints and vertices, with Horn's quaternion solution of the absolute orientation for PA-MPJPE (a
different method from the SVD the code uses)."""
from typing import Dict, List, Optional

import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

from pose_plugins.evaluation.functional import pve
from pose_plugins.evaluation.metrics import MeshMetric

V = 300  # vertices: the metric does not depend on SMPL's 6890


def _horn_similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` (K, 3) moved by the least-squares similarity onto ``target``: the rotation is the eigenvector of
    the largest eigenvalue of Horn's symmetric 4x4 matrix (Horn, "Closed-form solution of absolute orientation
    using unit quaternions", JOSA A 1987), the scale the least-squares one given that rotation."""
    p = source - source.mean(axis=0)
    g = target - target.mean(axis=0)
    m = p.T @ g  # M[a, b] = sum p_a g_b
    sxx, sxy, sxz, syx, syy, syz, szx, szy, szz = m.ravel()
    n = np.array([[sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
                  [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
                  [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
                  [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz]])
    w, x, y, z = np.linalg.eigh(n)[1][:, -1]
    rotation = np.array([[w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)],
                         [2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)],
                         [2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z]])
    rotated = p @ rotation.T
    scale = (rotated * g).sum() / (p * p).sum()
    return scale * rotated + target.mean(axis=0)


def _reference(pred: np.ndarray, gt: np.ndarray, pred_vertices: Optional[np.ndarray],
               gt_vertices: Optional[np.ndarray], root: List[int]) -> Dict[str, float]:
    """Errors in mm of metre inputs, with explicit loops."""
    joint_errors, aligned_errors, vertex_errors = [], [], []
    for i in range(len(gt)):
        pred_root = sum(pred[i, r] for r in root) / len(root)
        gt_root = sum(gt[i, r] for r in root) / len(root)
        p, g = (pred[i] - pred_root) * 1000.0, (gt[i] - gt_root) * 1000.0
        aligned = _horn_similarity(p, g)
        for k in range(gt.shape[1]):
            joint_errors.append(np.sqrt(((p[k] - g[k]) ** 2).sum()))
            aligned_errors.append(np.sqrt(((aligned[k] - g[k]) ** 2).sum()))
        if gt_vertices is not None:
            for v in range(gt_vertices.shape[1]):
                d = (pred_vertices[i, v] - pred_root) - (gt_vertices[i, v] - gt_root)
                vertex_errors.append(1000.0 * np.sqrt((d ** 2).sum()))
    result = {'MPJPE': float(np.mean(joint_errors)), 'PA-MPJPE': float(np.mean(aligned_errors))}
    if vertex_errors:
        result['PVE'] = float(np.mean(vertex_errors))
    return result


def _scene(seed: int, n: int, k: int):
    """GT joints (n, k, 3) and vertices (n, V, 3) in metres, and a prediction: rotated, scaled, shifted, noisy."""
    rng = np.random.default_rng(seed)
    gt = rng.uniform(-0.9, 0.9, size=(n, k, 3))
    gt_vertices = rng.uniform(-0.9, 0.9, size=(n, V, 3))
    angle = rng.uniform(0, 0.5)
    rotation = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    shift = rng.normal(0, 1.0, size=(n, 1, 3))
    pred = 1.1 * gt @ rotation.T + shift + rng.normal(0, 0.03, size=gt.shape)
    pred_vertices = 1.1 * gt_vertices @ rotation.T + shift + rng.normal(0, 0.03, size=gt_vertices.shape)
    return pred, gt, pred_vertices, gt_vertices


def _samples(pred, gt, pred_vertices, gt_vertices, *, gt_in_metainfo: bool = False, vertices_from: int = 0):
    """One ``PoseDataSample.to_dict()`` per instance; GT vertices only from instance ``vertices_from`` on."""
    samples = []
    for i in range(len(gt)):
        sample = PoseDataSample(metainfo=dict(id=i, img_id=i))
        sample.pred_instances = InstanceData(keypoints_3d=pred[i:i + 1], vertices=pred_vertices[i:i + 1])
        truth = dict(keypoints_3d=gt[i:i + 1])
        if i >= vertices_from:
            truth['vertices'] = gt_vertices[i:i + 1]
        if gt_in_metainfo:
            sample.set_metainfo(truth)
        else:
            sample.gt_instances = InstanceData(**truth)
        samples.append(sample.to_dict())
    return samples


def _run(samples, **kwargs) -> Dict[str, float]:
    metric = MeshMetric(**kwargs)
    for start in range(0, len(samples), 2):
        metric.process(None, samples[start:start + 2])
    return metric.compute_metrics(metric.results)


@pytest.mark.parametrize('k, root', [(24, [0]), (17, [11, 12])], ids=['smpl24', 'coco17'])
@pytest.mark.parametrize('gt_in_metainfo', [False, True], ids=['gt_instances', 'metainfo'])
@pytest.mark.parametrize('seed', range(2))
def test_matches_float64_reference(seed: int, k: int, root: List[int], gt_in_metainfo: bool) -> None:
    scene = _scene(seed, n=5, k=k)
    got = _run(_samples(*scene, gt_in_metainfo=gt_in_metainfo))
    want = _reference(*scene, root=root)
    assert set(want) <= set(got) and want['PVE'] > 10.0 and want['PA-MPJPE'] < want['MPJPE']
    for name, value in want.items():
        # float64 both ways on errors of tens of mm: sums of ~1e3 terms round at ~1e-12 mm; the SVD and the
        # eigen-solution of the alignment agree to ~1e-10 relative
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_pve_only_over_samples_with_gt_vertices() -> None:
    pred, gt, pred_vertices, gt_vertices = _scene(3, n=4, k=24)
    got = _run(_samples(pred, gt, pred_vertices, gt_vertices, vertices_from=2))
    want = _reference(pred[2:], gt[2:], pred_vertices[2:], gt_vertices[2:], root=[0])
    assert got['PVE'] == pytest.approx(want['PVE'], rel=1e-9)
    assert got['MPJPE'] == pytest.approx(_reference(pred, gt, None, None, root=[0])['MPJPE'], rel=1e-9)
    assert 'PVE' not in _run(_samples(pred, gt, pred_vertices, gt_vertices, vertices_from=4))


def test_flags_leave_out_instances_without_ground_truth() -> None:
    """``has_keypoints_3d = 0``: zeros that are no ground truth, left out; ``has_body = 0``: no PVE term."""
    pred, gt, pred_vertices, gt_vertices = _scene(8, n=4, k=17)
    samples = _samples(pred, gt, pred_vertices, gt_vertices)
    for i, sample in enumerate(samples):
        sample['gt_instances']['has_keypoints_3d'] = np.array([0.0 if i == 0 else 1.0])
        sample['gt_instances']['has_body'] = np.array([0.0 if i == 1 else 1.0])
    samples[0]['gt_instances']['keypoints_3d'] = np.zeros_like(gt[:1])
    got = _run(samples)
    joints = _reference(pred[1:], gt[1:], None, None, root=[11, 12])
    meshes = _reference(pred[2:], gt[2:], pred_vertices[2:], gt_vertices[2:], root=[11, 12])
    assert got['MPJPE'] == pytest.approx(joints['MPJPE'], rel=1e-9)
    assert got['PA-MPJPE'] == pytest.approx(joints['PA-MPJPE'], rel=1e-9)
    assert got['PVE'] == pytest.approx(meshes['PVE'], rel=1e-9)
    for sample in samples:
        sample['gt_instances']['has_keypoints_3d'] = np.zeros(1)
    with pytest.raises(ValueError, match='no instance with 3D ground truth'):
        _run(samples)


def test_exact_prediction_up_to_translation_is_zero() -> None:
    _, gt, _, gt_vertices = _scene(4, n=3, k=24)
    shift = np.array([0.3, -2.0, 5.0])
    got = _run(_samples(gt + shift, gt, gt_vertices + shift, gt_vertices))
    for name in ('MPJPE', 'PA-MPJPE', 'PVE'):
        assert got[name] < 1e-9, name  # metres -> mm of float64 rounding of values ~5 m: ~1e-12 mm


def test_functional_pve_is_root_relative_mean_vertex_error() -> None:
    rng = np.random.default_rng(5)
    gt = rng.normal(size=(2, 10, 3))
    pred = gt + np.array([0.0, 0.0, 0.5])  # 0.5 off everywhere, but its root is off by 0.5 too
    assert pve(pred_vertices=pred, gt_vertices=gt, pred_root=np.zeros((2, 3)), gt_root=np.zeros((2, 3))) == \
        pytest.approx(0.5)
    assert pve(pred_vertices=pred, gt_vertices=gt, pred_root=np.full((2, 3), 0.0) + [0, 0, 0.5],
               gt_root=np.zeros((2, 3))) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match=r'pred_root must have shape \(N, 3\) = \(2, 3\)'):
        pve(pred_vertices=pred, gt_vertices=gt, pred_root=np.zeros(3), gt_root=np.zeros((2, 3)))


def test_evaluator_prefix_and_registry() -> None:
    scene = _scene(6, n=2, k=24)
    with DefaultScope.overwrite_default_scope('mmpose'):
        evaluator = Evaluator(dict(type='pose_plugins.MeshMetric'))
    evaluator.process(data_samples=_samples(*scene))
    metrics = evaluator.evaluate(2)
    assert {'mesh/MPJPE', 'mesh/PA-MPJPE', 'mesh/PVE'} <= set(metrics)


@pytest.mark.parametrize('case, error, pattern', [
    ('no_pred', KeyError, r"needs data_sample\['pred_instances'\]\['keypoints_3d'\]"),
    ('no_gt', KeyError, r"needs data_sample\['gt_instances'\]\['keypoints_3d'\] or the metainfo key"),
    ('no_pred_vertices', KeyError, r"needs data_sample\['pred_instances'\]\['vertices'\]"),
    ('shape', ValueError, r"pred_instances\['keypoints_3d'\] \(1, 24, 3\) and the ground truth keypoints_3d "
                          r"\(1, 17, 3\)"),
    ('nan', ValueError, r"gt_instances\['keypoints_3d'\] must be a finite"),
    ('k', ValueError, r'no default root for K = 5 joints'),
])
def test_bad_samples(case: str, error: type, pattern: str) -> None:
    pred, gt, pred_vertices, gt_vertices = _scene(7, n=1, k=24)
    sample = _samples(pred, gt, pred_vertices, gt_vertices)[0]
    if case == 'no_pred':
        del sample['pred_instances']['keypoints_3d']
    elif case == 'no_gt':
        del sample['gt_instances']['keypoints_3d']
    elif case == 'no_pred_vertices':
        del sample['pred_instances']['vertices']
    elif case == 'shape':
        sample['gt_instances']['keypoints_3d'] = gt[:, :17]
    elif case == 'nan':
        sample['gt_instances']['keypoints_3d'] = np.full_like(gt, np.nan)
    else:
        sample['gt_instances']['keypoints_3d'] = gt[:, :5]
        sample['pred_instances']['keypoints_3d'] = pred[:, :5]
    with pytest.raises(error, match=pattern):
        MeshMetric().process(None, [sample])
