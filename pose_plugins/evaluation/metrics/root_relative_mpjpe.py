"""Root-relative 3D pose error (MPJPE, PA-MPJPE) of top-down ``(u, v, z_rel)`` predictions, as in 3DMPPE."""
from numbers import Integral
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric

from pose_plugins.evaluation.functional import back_project, mpjpe, pa_mpjpe, root_relative
from pose_plugins.registry import METRICS

__all__ = ['RootRelativeMPJPE']

_METAINFO_HINT = ("add it to PackPoseInputs(meta_keys=...) in the test pipeline and load the data with "
                  "pose_plugins.CocoKeypoint3DDataset")


def _metainfo(data_sample: Dict[str, Any], key: str) -> Any:
    if key not in data_sample:
        raise KeyError(f'RootRelativeMPJPE needs the metainfo key {key!r} in every data sample, but it is missing: '
                       f'{_METAINFO_HINT}')
    return data_sample[key]


def _read_sample(data_sample: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Predicted (u, v, z_rel) (N, K, 3), ground truth (N, K, 3), focal (2,) and centre (2,) of a sample."""
    if 'pred_instances' not in data_sample or 'keypoints' not in data_sample['pred_instances']:
        raise KeyError("RootRelativeMPJPE needs data_sample['pred_instances']['keypoints'] (N, K, 3)")
    pred = np.asarray(data_sample['pred_instances']['keypoints'], dtype=np.float64)
    gt = np.asarray(_metainfo(data_sample, 'keypoints_3d'), dtype=np.float64)
    camera = _metainfo(data_sample, 'camera_param')
    for name in ('f', 'c'):
        if name not in camera:
            raise KeyError(f"camera_param has no {name!r} (keys: {sorted(camera)}): it needs 'f' = (fx, fy) and "
                           "'c' = (cx, cy) in pixels")
    if pred.ndim != 3 or pred.shape[2] != 3:
        raise ValueError("pred_instances['keypoints'] must have shape (N, K, 3): u, v in image pixels and the "
                         f'root-relative depth z in mm, got shape {pred.shape} (is the head a 3D one?)')
    if gt.shape != pred.shape:
        raise ValueError(f"keypoints_3d must have the shape of pred_instances['keypoints'] {pred.shape}, "
                         f'got {gt.shape}')
    for name, value in (("pred_instances['keypoints']", pred), ('keypoints_3d', gt)):
        if not np.isfinite(value).all():
            raise ValueError(f'{name} has non-finite values (NaN or inf) at instance, keypoint '
                             f'{np.argwhere(~np.isfinite(value))[0, :2].tolist()}')
    # (2, 1) as in Human3.6M's camera files, or (2,)
    focal = np.asarray(camera['f'], dtype=np.float64).reshape(-1)
    center = np.asarray(camera['c'], dtype=np.float64).reshape(-1)
    return pred, gt, focal, center


@METRICS.register_module()
class RootRelativeMPJPE(BaseMetric):
    """Root-relative MPJPE of 3D poses predicted as ``(u, v, z_rel)``, in mm.

    3DMPPE's protocol (https://arxiv.org/abs/1907.11346) with the ground-truth root depth (mean Z over
    ``root_indices``, default COCO's hips): back-projection, then both poses root-relative. Reports ``MPJPE``
    (Human3.6M Protocol #2), ``PA-MPJPE`` (Procrustes-aligned, #1), ``MPJPE-xy`` and ``MPJPE-z``, over all joints.

    Data sample fields (N instances, K keypoints; the last two are metainfo keys of ``PackPoseInputs``):
        - pred_instances['keypoints'] (np.ndarray): (N, K, 3): u, v in image pixels, z_rel in mm
        - keypoints_3d (np.ndarray): (N, K, 3) ground-truth camera coordinates in mm
        - camera_param (dict): ``f`` = (fx, fy) and ``c`` = (cx, cy) in pixels
    """

    default_prefix: Optional[str] = 'pose3d'

    def __init__(self, *, root_indices: Sequence[int] = (11, 12), collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(root_indices, (str, bytes)) or not isinstance(root_indices, Sequence) or not root_indices \
                or not all(isinstance(i, Integral) and not isinstance(i, (bool, np.bool_)) and i >= 0
                           for i in root_indices) or len(set(root_indices)) != len(root_indices):
            raise ValueError(f'root_indices must be a non-empty sequence of distinct non-negative ints, '
                             f'got {root_indices!r}')
        self.root_indices: Tuple[int, ...] = tuple(int(i) for i in root_indices)

    def process(self, data_batch: Any, data_samples: Sequence[Dict[str, Any]]) -> None:
        """Store each sample's back-projected prediction and ground truth, root-relative, (N, K, 3) mm."""
        for data_sample in data_samples:
            pred_uvz, gt, focal, center = _read_sample(data_sample)
            gt_relative = root_relative(keypoints=gt, root_indices=self.root_indices)
            root_depth = gt[:, self.root_indices, 2].mean(axis=1)
            pred_camera = back_project(keypoints=pred_uvz, root_depth=root_depth, focal=focal, center=center)
            self.results.append(
                dict(pred=root_relative(keypoints=pred_camera, root_indices=self.root_indices), gt=gt_relative))

    def compute_metrics(self, results: List[Dict[str, np.ndarray]]) -> Dict[str, float]:
        """``{'MPJPE', 'PA-MPJPE', 'MPJPE-xy', 'MPJPE-z'}`` in mm over all stored instances."""
        if not results:
            raise ValueError('RootRelativeMPJPE got no results: process() was never called with data samples '
                             '(is the evaluation dataset empty?)')
        num_keypoints = {result['gt'].shape[1] for result in results}
        if len(num_keypoints) != 1:
            raise ValueError(f'all data samples must have the same number of keypoints K, got {sorted(num_keypoints)}')
        pred = np.concatenate([result['pred'] for result in results])
        gt = np.concatenate([result['gt'] for result in results])
        return {
            'MPJPE': mpjpe(pred=pred, gt=gt),
            'PA-MPJPE': pa_mpjpe(pred=pred, gt=gt),
            'MPJPE-xy': mpjpe(pred=pred, gt=gt, dims=(0, 1)),
            'MPJPE-z': mpjpe(pred=pred, gt=gt, dims=(2,)),
        }
