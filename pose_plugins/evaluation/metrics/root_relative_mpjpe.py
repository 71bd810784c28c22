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
    """``data_sample[key]``, or a KeyError that says how to get the metainfo key ``key`` packed."""
    if key not in data_sample:
        raise KeyError(f'RootRelativeMPJPE needs the metainfo key {key!r} in every data sample, but it is missing: '
                       f'{_METAINFO_HINT}')
    return data_sample[key]


def _read_sample(data_sample: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The predicted (u, v, z_rel) (N, K, 3), the ground truth (N, K, 3), focal (2,) and centre (2,) of a sample."""
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
    """Root-relative mean per-joint position error of 3D poses predicted as ``(u, v, z_rel)``, in mm.

    The protocol of 3DMPPE PoseNet with the ground-truth root depth (Moon et al., "Camera Distance-aware Top-down
    Approach for 3D Multi-person Pose Estimation from a Single RGB Image", ICCV 2019,
    https://arxiv.org/abs/1907.11346; the root-relative PoseNet of Sun et al., "Integral Human Pose Regression",
    ECCV 2018): for every instance,

    1. the ground-truth root depth ``Z_root`` is the mean ground-truth Z over ``root_indices``;
    2. the prediction is back-projected with ``Z = Z_root + z_rel``, ``X = (u - cx) Z / fx``,
       ``Y = (v - cy) Z / fy`` (:func:`~pose_plugins.evaluation.functional.back_project`);
    3. prediction and ground truth are each made root-relative (minus their own mean over ``root_indices``).

    Reported, averaged over all instances and all K joints (no visibility mask):

    - ``MPJPE``: Euclidean error (Protocol #2 of Human3.6M);
    - ``PA-MPJPE``: the same after a per-instance similarity Procrustes alignment (scale, proper rotation,
      translation) of the prediction to the ground truth (Protocol #1);
    - ``MPJPE-xy``: Euclidean error of (X, Y) alone;
    - ``MPJPE-z``: mean absolute error of the depth alone, which shows whether depth is learned at all.

    mmengine prefixes them with ``default_prefix``: ``pose3d/MPJPE`` ...

    Each data sample (a dict, as ``TopdownPoseEstimator`` outputs after ``to_dict``) must hold
    ``pred_instances['keypoints']`` and the metainfo keys ``keypoints_3d`` and ``camera_param``; the config adds
    the latter two to ``PackPoseInputs(meta_keys=...)``, and ``pose_plugins.CocoKeypoint3DDataset`` provides them.

    Note:
        - N: number of instances of a data sample (1 in top-down)
        - K: number of keypoints

    Data sample fields:
        - pred_instances['keypoints'] (np.ndarray): (N, K, 3): u, v in original-image pixels, z_rel in mm
        - keypoints_3d (np.ndarray): (N, K, 3) ground-truth camera coordinates in mm (X right, Y down, Z forward)
        - camera_param (dict): ``f`` = (fx, fy) and ``c`` = (cx, cy) in pixels, shape (2,) or (2, 1)

    Args:
        root_indices (Sequence[int]): Distinct keypoint indices whose mean is the root. Defaults to (11, 12),
            the hips of COCO's 17 keypoints.
        collect_device (str): ``'cpu'`` or ``'gpu'``, where results are gathered in distributed evaluation.
        prefix (str, optional): Prefix of the metric names; ``None`` means ``default_prefix`` ``'pose3d'``.
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
        """Back-project each sample's prediction and store it with its ground truth, both root-relative.

        Appends one result per data sample to ``self.results``: ``dict(pred=..., gt=...)``, each float64
        (N, K, 3) root-relative camera coordinates in mm.

        Args:
            data_batch (Any): The data batch (unused).
            data_samples (Sequence[dict]): The model outputs as dicts (see the class docstring).
        """
        for data_sample in data_samples:
            pred_uvz, gt, focal, center = _read_sample(data_sample)
            gt_relative = root_relative(keypoints=gt, root_indices=self.root_indices)
            root_depth = gt[:, self.root_indices, 2].mean(axis=1)
            pred_camera = back_project(keypoints=pred_uvz, root_depth=root_depth, focal=focal, center=center)
            self.results.append(
                dict(pred=root_relative(keypoints=pred_camera, root_indices=self.root_indices), gt=gt_relative))

    def compute_metrics(self, results: List[Dict[str, np.ndarray]]) -> Dict[str, float]:
        """MPJPE, PA-MPJPE, MPJPE-xy and MPJPE-z in mm over all instances of ``results``.

        Args:
            results (List[dict]): What :meth:`process` stored, gathered from all ranks.

        Returns:
            Dict[str, float]: ``{'MPJPE', 'PA-MPJPE', 'MPJPE-xy', 'MPJPE-z'}``, unprefixed.
        """
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
