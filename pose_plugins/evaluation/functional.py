"""Root-relative 3D pose evaluation in numpy, float64, all N instances at once: back-projection, MPJPE,
Procrustes alignment, PVE. The protocol of 3DMPPE (https://arxiv.org/abs/1907.11346) with ground-truth root depth.
"""
from numbers import Integral
from typing import Sequence, Tuple

import numpy as np

__all__ = ['back_project', 'root_relative', 'mpjpe', 'procrustes_transform', 'procrustes_align', 'pa_mpjpe', 'pve']


def _as_poses(name: str, value: np.ndarray) -> np.ndarray:
    """``value`` as a finite float64 (N, K, 3) array with N, K >= 1, or a ValueError naming ``name``."""
    poses = np.asarray(value, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[2] != 3 or poses.shape[0] < 1 or poses.shape[1] < 1:
        raise ValueError(f'{name} must have shape (N, K, 3) with N, K >= 1, got shape {poses.shape}')
    if not np.isfinite(poses).all():
        raise ValueError(f'{name} has non-finite values (NaN or inf)')
    return poses


def _as_pose_pair(pred: np.ndarray, gt: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    pred, gt = _as_poses('pred', pred), _as_poses('gt', gt)
    if pred.shape != gt.shape:
        raise ValueError(f'pred and gt must have the same shape, got {pred.shape} and {gt.shape}')
    return pred, gt


def _as_camera_vector(name: str, value: np.ndarray, num_instances: int) -> np.ndarray:
    """A camera ``(x, y)`` pair, (2,) or (N, 2), as float64 (N or 1, 1, 2), or a ValueError."""
    vector = np.asarray(value, dtype=np.float64)
    if vector.shape not in ((2,), (num_instances, 2)):
        raise ValueError(f'{name} must have shape (2,) or (N, 2) = ({num_instances}, 2), got shape {vector.shape}')
    if not np.isfinite(vector).all():
        raise ValueError(f'{name} has non-finite values: {vector.tolist()}')
    return vector.reshape(-1, 1, 2)


def back_project(*, keypoints: np.ndarray, root_depth: np.ndarray, focal: np.ndarray,
                 center: np.ndarray) -> np.ndarray:
    """Camera coordinates (N, K, 3) of keypoints ``(u, v, z_rel)`` (N, K, 3) in image pixels and root-relative
    depth, pinhole: ``Z = root_depth + z_rel``, ``X = (u - cx) Z / fx``, ``Y = (v - cy) Z / fy``. ``root_depth``:
    (N,) or a scalar; ``focal`` (non-zero) and ``center``: (2,) or (N, 2), in pixels."""
    keypoints = _as_poses('keypoints', keypoints)
    num_instances = keypoints.shape[0]
    focal = _as_camera_vector('focal', focal, num_instances)
    center = _as_camera_vector('center', center, num_instances)
    if (focal == 0).any():
        raise ValueError(f'focal must be non-zero, got {focal.reshape(-1, 2).tolist()}')
    root_depth = np.asarray(root_depth, dtype=np.float64)
    if root_depth.shape not in ((), (num_instances,)):
        raise ValueError(f'root_depth must have shape (N,) = ({num_instances},), got shape {root_depth.shape}')
    depth = root_depth.reshape(-1, 1) + keypoints[..., 2]
    xy = (keypoints[..., :2] - center) * depth[..., None] / focal
    return np.concatenate([xy, depth[..., None]], axis=-1)


def root_relative(*, keypoints: np.ndarray, root_indices: Sequence[int]) -> np.ndarray:
    """Keypoints (N, K, 3) minus their root, the mean of the distinct keypoints ``root_indices``."""
    keypoints = _as_poses('keypoints', keypoints)
    num_keypoints = keypoints.shape[1]
    indices = list(root_indices)
    if not indices or not all(isinstance(i, Integral) and not isinstance(i, (bool, np.bool_)) and
                              0 <= i < num_keypoints for i in indices) or len(set(indices)) != len(indices):
        raise ValueError(f'root_indices must be distinct ints in [0, K) = [0, {num_keypoints}), '
                         f'got {root_indices!r}')
    return keypoints - keypoints[:, indices].mean(axis=1, keepdims=True)


def mpjpe(*, pred: np.ndarray, gt: np.ndarray, dims: Sequence[int] = (0, 1, 2)) -> float:
    """Mean Euclidean error of ``pred`` to ``gt`` (N, K, 3) over the coordinates ``dims``, in their unit, unaligned;
    ``dims=(0, 1)`` gives MPJPE-xy, ``dims=(2,)`` MPJPE-z."""
    pred, gt = _as_pose_pair(pred, gt)
    dims = list(dims)
    if not dims or not set(dims) <= {0, 1, 2} or len(set(dims)) != len(dims):
        raise ValueError(f'dims must be distinct coordinates out of (0, 1, 2), got {dims!r}')
    return float(np.linalg.norm(pred[..., dims] - gt[..., dims], axis=-1).mean())


def procrustes_transform(*, pred: np.ndarray,
                         gt: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale (N,), rotation (N, 3, 3) and translation (N, 3) of the similarity ``s R p + t`` taking
    ``pred`` closest to ``gt`` (N, K, 3): Umeyama's closed form (TPAMI 1991) with ``R`` a proper rotation (det +1);
    ``s = 0`` for a ``pred`` of zero variance."""
    pred, gt = _as_pose_pair(pred, gt)
    pred_mean, gt_mean = pred.mean(axis=1), gt.mean(axis=1)
    pred_c, gt_c = pred - pred_mean[:, None], gt - gt_mean[:, None]
    covariance = np.einsum('nki,nkj->nij', gt_c, pred_c) / pred.shape[1]
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    d = np.stack([np.ones_like(sign), np.ones_like(sign), sign], axis=-1)  # the diagonal of D
    rotation = (u * d[:, None, :]) @ vt
    pred_variance = (pred_c ** 2).sum(axis=(1, 2)) / pred.shape[1]
    trace = (singular * d).sum(axis=-1)
    scale = np.divide(trace, pred_variance, out=np.zeros_like(trace), where=pred_variance > 0)
    translation = gt_mean - scale[:, None] * np.einsum('nij,nj->ni', rotation, pred_mean)
    return scale, rotation, translation


def procrustes_align(*, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred`` (N, K, 3) moved onto ``gt`` by its :func:`procrustes_transform`."""
    scale, rotation, translation = procrustes_transform(pred=pred, gt=gt)
    pred = np.asarray(pred, dtype=np.float64)
    return scale[:, None, None] * np.einsum('nij,nkj->nki', rotation, pred) + translation[:, None]


def pa_mpjpe(*, pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after the per-instance :func:`procrustes_align` of ``pred`` (N, K, 3) to ``gt``."""
    return mpjpe(pred=procrustes_align(pred=pred, gt=gt), gt=gt)


def pve(*, pred_vertices: np.ndarray, gt_vertices: np.ndarray, pred_root: np.ndarray,
        gt_root: np.ndarray) -> float:
    """Mean vertex error of meshes (N, V, 3), each first translated by its own root (N, 3) (SMPL's pelvis or the
    mid-hip), as SPIN's 3DPW evaluation (Kolotouros et al., ICCV 2019)."""
    pred_vertices, gt_vertices = _as_pose_pair(pred_vertices, gt_vertices)
    roots = [np.asarray(root, dtype=np.float64) for root in (pred_root, gt_root)]
    for name, root in zip(('pred_root', 'gt_root'), roots):
        if root.shape != (pred_vertices.shape[0], 3):
            raise ValueError(f'{name} must have shape (N, 3) = ({pred_vertices.shape[0]}, 3), got {root.shape}')
    return mpjpe(pred=pred_vertices - roots[0][:, None], gt=gt_vertices - roots[1][:, None])
