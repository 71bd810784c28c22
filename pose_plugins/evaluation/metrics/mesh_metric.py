"""MPJPE, PA-MPJPE and per-vertex error (PVE) of recovered body meshes, in mm."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from pose_plugins.evaluation.functional import pve, root_relative
from pose_plugins.registry import METRICS
from .root_relative_mpjpe import RootRelativeMPJPE

__all__ = ['MeshMetric']

_MM_PER_M = 1000.0
# SMPL pelvis; COCO mid-hip
_DEFAULT_ROOTS = {24: (0, ), 17: (11, 12)}


def _read(data_sample: Dict[str, Any], group: str, key: str, *, required: bool,
          ndim: int = 3) -> Optional[np.ndarray]:
    """``data_sample[group][key]`` (ground truth: or the metainfo key ``data_sample[key]``) as float64."""
    instances = data_sample.get(group) or {}
    if key in instances:
        value = instances[key]
    elif group == 'gt_instances' and key in data_sample:
        value = data_sample[key]
    elif required:
        where = f"data_sample['{group}']['{key}']" + (f" or the metainfo key {key!r}" if group == 'gt_instances'
                                                       else '')
        raise KeyError(f'MeshMetric needs {where} in every data sample, but it is missing')
    else:
        return None
    array = np.asarray(value, dtype=np.float64)
    if ndim == 1:
        return array.reshape(-1)
    if array.ndim != 3 or array.shape[2] != 3 or not np.isfinite(array).all():
        raise ValueError(f"MeshMetric: {group}['{key}'] must be a finite (N, K, 3) array in metres, got shape "
                         f'{array.shape}' + ('' if np.isfinite(array).all() else ' with NaN or inf'))
    return array


def _flag(data_sample: Dict[str, Any], key: str, num_instances: int) -> np.ndarray:
    """The ground truth's per-instance flag ``key`` as a bool (N,) mask; all True when absent."""
    flag = _read(data_sample, 'gt_instances', key, required=False, ndim=1)
    if flag is None:
        return np.ones(num_instances, dtype=bool)
    if flag.shape != (num_instances, ):
        raise ValueError(f"MeshMetric: gt_instances['{key}'] must have shape (N,) = ({num_instances},), got "
                         f'{flag.shape}')
    return flag > 0


@METRICS.register_module()
class MeshMetric(RootRelativeMPJPE):
    """Mesh-recovery errors in mm: MPJPE, PA-MPJPE of the 3D joints and the per-vertex error PVE.

    The HMR / SPIN protocol (Kanazawa et al., CVPR 2018; Kolotouros et al., ICCV 2019), as mmpose 0.x's
    ``mesh_eval``: poses root-relative (``root_indices``; default SMPL's pelvis for 24 joints, the mid-hip for 17),
    :class:`RootRelativeMPJPE`'s errors and ``PVE`` over the samples with ground-truth vertices.

    Data sample fields (metres; N instances, K joints, V vertices; ground truth also as metainfo keys):
        - pred_instances / gt_instances ['keypoints_3d'] (np.ndarray): (N, K, 3); ['vertices']: (N, V, 3)
        - gt_instances['has_keypoints_3d'], ['has_body'] (np.ndarray, optional): (N,) flags; an instance without
          3D joints is left out, one without a body (``has_body`` 0) is left out of PVE only
    """

    default_prefix: Optional[str] = 'mesh'

    def __init__(self, *, root_indices: Optional[Sequence[int]] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(root_indices=_DEFAULT_ROOTS[24] if root_indices is None else root_indices,
                         collect_device=collect_device, prefix=prefix)
        self.root_from_num_joints = root_indices is None

    def _roots(self, num_joints: int) -> Tuple[int, ...]:
        if not self.root_from_num_joints:
            return self.root_indices
        if num_joints not in _DEFAULT_ROOTS:
            raise ValueError(f'MeshMetric: no default root for K = {num_joints} joints (known: '
                             f'{sorted(_DEFAULT_ROOTS)}); give root_indices')
        return _DEFAULT_ROOTS[num_joints]

    def process(self, data_batch: Any, data_samples: Sequence[Dict[str, Any]]) -> None:
        """Store the root-relative joints in mm of instances with 3D ground truth, and their PVE sum."""
        for data_sample in data_samples:
            pred = _read(data_sample, 'pred_instances', 'keypoints_3d', required=True) * _MM_PER_M
            gt = _read(data_sample, 'gt_instances', 'keypoints_3d', required=True) * _MM_PER_M
            if pred.shape != gt.shape:
                raise ValueError(f"MeshMetric: pred_instances['keypoints_3d'] {pred.shape} and the ground truth "
                                 f'keypoints_3d {gt.shape} must have the same shape')
            has_3d = _flag(data_sample, 'has_keypoints_3d', len(gt))
            if not has_3d.any():
                continue
            pred, gt = pred[has_3d], gt[has_3d]
            roots = self._roots(gt.shape[1])
            result: Dict[str, Any] = dict(pred=root_relative(keypoints=pred, root_indices=roots),
                                          gt=root_relative(keypoints=gt, root_indices=roots))
            gt_vertices = _read(data_sample, 'gt_instances', 'vertices', required=False)
            with_mesh = _flag(data_sample, 'has_body', len(has_3d))[has_3d]
            if gt_vertices is not None and with_mesh.any():
                pred_vertices = _read(data_sample, 'pred_instances', 'vertices', required=True)[has_3d][with_mesh]
                result['pve_sum'] = pve(pred_vertices=pred_vertices * _MM_PER_M,
                                        gt_vertices=gt_vertices[has_3d][with_mesh] * _MM_PER_M,
                                        pred_root=pred[with_mesh][:, roots].mean(axis=1),
                                        gt_root=gt[with_mesh][:, roots].mean(axis=1)) * with_mesh.sum()
                result['num_meshes'] = int(with_mesh.sum())
            self.results.append(result)

    def compute_metrics(self, results: List[Dict[str, Any]]) -> Dict[str, float]:
        """MPJPE, PA-MPJPE, MPJPE-xy, MPJPE-z and, where there were meshes, PVE, in mm."""
        if not results:
            raise ValueError('MeshMetric got no instance with 3D ground truth (no data samples, or '
                             'has_keypoints_3d = 0 in all)')
        metrics = super().compute_metrics(results)
        num_meshes = sum(result.get('num_meshes', 0) for result in results)
        if num_meshes:
            metrics['PVE'] = sum(result.get('pve_sum', 0.0) for result in results) / num_meshes
        return metrics
