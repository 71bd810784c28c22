"""Pure numpy functions for root-relative 3D pose evaluation: back-projection, MPJPE, Procrustes alignment.

They implement the evaluation protocol of Moon et al., "Camera Distance-aware Top-down Approach for 3D Multi-person
Pose Estimation from a Single RGB Image", ICCV 2019 (3DMPPE PoseNet, https://arxiv.org/abs/1907.11346), with the
ground-truth root depth: a predicted ``(u, v, z_rel)`` (image pixels, root-relative depth in mm) becomes camera
coordinates with :func:`back_project`, both poses are made root-relative with :func:`root_relative`, and the error
is :func:`mpjpe` (Protocol #2 of Human3.6M) or :func:`pa_mpjpe` after :func:`procrustes_align` (Protocol #1).

Every function works on all N instances at once (a batched SVD for the alignment), never looping over instances
or keypoints in Python. All arrays are cast to float64.

Note:
    - N: number of instances
    - K: number of keypoints
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
    """``pred`` and ``gt`` checked by :func:`_as_poses`, with equal shapes."""
    pred, gt = _as_poses('pred', pred), _as_poses('gt', gt)
    if pred.shape != gt.shape:
        raise ValueError(f'pred and gt must have the same shape, got {pred.shape} and {gt.shape}')
    return pred, gt


def _as_camera_vector(name: str, value: np.ndarray, num_instances: int) -> np.ndarray:
    """A camera ``(x, y)`` pair, shape (2,) or (N, 2), as float64 (N or 1, 1, 2), or a ValueError naming it."""
    vector = np.asarray(value, dtype=np.float64)
    if vector.shape not in ((2,), (num_instances, 2)):
        raise ValueError(f'{name} must have shape (2,) or (N, 2) = ({num_instances}, 2), got shape {vector.shape}')
    if not np.isfinite(vector).all():
        raise ValueError(f'{name} has non-finite values: {vector.tolist()}')
    return vector.reshape(-1, 1, 2)


def back_project(*, keypoints: np.ndarray, root_depth: np.ndarray, focal: np.ndarray,
                 center: np.ndarray) -> np.ndarray:
    """Camera coordinates of keypoints given in pixels with a root-relative depth.

    With ``Z = root_depth + z_rel``: ``X = (u - cx) Z / fx``, ``Y = (v - cy) Z / fy`` (pinhole camera, X right,
    Y down, Z forward, no distortion).

    Args:
        keypoints (np.ndarray): ``(u, v, z_rel)``: pixels in the original image and the depth relative to the
            root, shape (N, K, 3).
        root_depth (np.ndarray): Absolute root depth Z of each instance, shape (N,) (or a scalar for all).
        focal (np.ndarray): ``(fx, fy)`` in pixels, shape (2,) or (N, 2); both must be non-zero.
        center (np.ndarray): Principal point ``(cx, cy)`` in pixels, shape (2,) or (N, 2).

    Returns:
        np.ndarray: Camera coordinates ``(X, Y, Z)`` in the unit of the depths, float64, shape (N, K, 3).
    """
    keypoints = _as_poses('keypoints', keypoints)
    num_instances = keypoints.shape[0]
    focal = _as_camera_vector('focal', focal, num_instances)
    center = _as_camera_vector('center', center, num_instances)
    if (focal == 0).any():
        raise ValueError(f'focal must be non-zero, got {focal.reshape(-1, 2).tolist()}')
    root_depth = np.asarray(root_depth, dtype=np.float64)
    if root_depth.shape not in ((), (num_instances,)):
        raise ValueError(f'root_depth must have shape (N,) = ({num_instances},), got shape {root_depth.shape}')
    depth = root_depth.reshape(-1, 1) + keypoints[..., 2]  # (N, K)
    xy = (keypoints[..., :2] - center) * depth[..., None] / focal
    return np.concatenate([xy, depth[..., None]], axis=-1)


def root_relative(*, keypoints: np.ndarray, root_indices: Sequence[int]) -> np.ndarray:
    """Keypoints minus their root, the mean of the keypoints ``root_indices`` (e.g. both hips).

    Args:
        keypoints (np.ndarray): Keypoints, shape (N, K, 3).
        root_indices (Sequence[int]): Distinct indices in ``[0, K)`` whose mean is the root.

    Returns:
        np.ndarray: Root-relative keypoints, float64, shape (N, K, 3).
    """
    keypoints = _as_poses('keypoints', keypoints)
    num_keypoints = keypoints.shape[1]
    indices = list(root_indices)
    if not indices or not all(isinstance(i, Integral) and not isinstance(i, (bool, np.bool_)) and
                              0 <= i < num_keypoints for i in indices) or len(set(indices)) != len(indices):
        raise ValueError(f'root_indices must be distinct ints in [0, K) = [0, {num_keypoints}), '
                         f'got {root_indices!r}')
    return keypoints - keypoints[:, indices].mean(axis=1, keepdims=True)


def mpjpe(*, pred: np.ndarray, gt: np.ndarray, dims: Sequence[int] = (0, 1, 2)) -> float:
    """Mean per-joint position error: the Euclidean error over the coordinates ``dims``, averaged over N and K.

    ``dims=(0, 1)`` gives the error in the image plane (``MPJPE-xy``), ``dims=(2,)`` the mean absolute depth error
    (``MPJPE-z``). No alignment is applied: pass root-relative poses for the usual root-relative MPJPE.

    Args:
        pred (np.ndarray): Predicted keypoints, shape (N, K, 3).
        gt (np.ndarray): Ground-truth keypoints, shape (N, K, 3).
        dims (Sequence[int]): Non-empty subset of the coordinates (0, 1, 2). Defaults to all three.

    Returns:
        float: The mean error, in the unit of the inputs.
    """
    pred, gt = _as_pose_pair(pred, gt)
    dims = list(dims)
    if not dims or not set(dims) <= {0, 1, 2} or len(set(dims)) != len(dims):
        raise ValueError(f'dims must be distinct coordinates out of (0, 1, 2), got {dims!r}')
    return float(np.linalg.norm(pred[..., dims] - gt[..., dims], axis=-1).mean())


def procrustes_transform(*, pred: np.ndarray,
                         gt: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per instance, the similarity transform ``s R p + t`` of ``pred`` closest to ``gt`` in least squares.

    Umeyama's closed form (Umeyama, "Least-squares estimation of transformation parameters between two point
    patterns", TPAMI 1991): with centred points ``P``, ``G`` and the SVD ``G^T P / K = U S V^T``, the rotation is
    ``R = U D V^T``, ``D = diag(1, 1, det(U) det(V))``, so ``R`` is always a proper rotation (det +1) even when
    the best orthogonal matrix would be a reflection; ``s = tr(S D) / var(P)`` and
    ``t = mean(G) - s R mean(P)``. A ``pred`` instance whose keypoints all coincide (zero variance) gets
    ``s = 0``, i.e. it is mapped onto the centroid of ``gt``.

    Args:
        pred (np.ndarray): Keypoints to align, shape (N, K, 3).
        gt (np.ndarray): Target keypoints, shape (N, K, 3).

    Returns:
        Tuple[np.ndarray, np.ndarray, np.ndarray]: float64 scale (N,), rotation (N, 3, 3) and translation (N, 3).
    """
    pred, gt = _as_pose_pair(pred, gt)
    pred_mean, gt_mean = pred.mean(axis=1), gt.mean(axis=1)  # (N, 3)
    pred_c, gt_c = pred - pred_mean[:, None], gt - gt_mean[:, None]
    covariance = np.einsum('nki,nkj->nij', gt_c, pred_c) / pred.shape[1]  # (N, 3, 3)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.sign(np.linalg.det(u) * np.linalg.det(vt))  # +-1: u and vt are orthogonal
    d = np.stack([np.ones_like(sign), np.ones_like(sign), sign], axis=-1)  # (N, 3), the diagonal of D
    rotation = (u * d[:, None, :]) @ vt
    pred_variance = (pred_c ** 2).sum(axis=(1, 2)) / pred.shape[1]
    trace = (singular * d).sum(axis=-1)
    scale = np.divide(trace, pred_variance, out=np.zeros_like(trace), where=pred_variance > 0)
    translation = gt_mean - scale[:, None] * np.einsum('nij,nj->ni', rotation, pred_mean)
    return scale, rotation, translation


def procrustes_align(*, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred`` moved by its :func:`procrustes_transform` onto ``gt`` (scale, proper rotation, translation).

    Args:
        pred (np.ndarray): Keypoints to align, shape (N, K, 3).
        gt (np.ndarray): Target keypoints, shape (N, K, 3).

    Returns:
        np.ndarray: The aligned ``pred``, float64, shape (N, K, 3).
    """
    scale, rotation, translation = procrustes_transform(pred=pred, gt=gt)
    pred = np.asarray(pred, dtype=np.float64)
    return scale[:, None, None] * np.einsum('nij,nkj->nki', rotation, pred) + translation[:, None]


def pa_mpjpe(*, pred: np.ndarray, gt: np.ndarray) -> float:
    """MPJPE after the per-instance similarity Procrustes alignment of ``pred`` to ``gt``.

    Args:
        pred (np.ndarray): Predicted keypoints, shape (N, K, 3).
        gt (np.ndarray): Ground-truth keypoints, shape (N, K, 3).

    Returns:
        float: The mean aligned error, in the unit of the inputs.
    """
    return mpjpe(pred=procrustes_align(pred=pred, gt=gt), gt=gt)


def pve(*, pred_vertices: np.ndarray, gt_vertices: np.ndarray, pred_root: np.ndarray,
        gt_root: np.ndarray) -> float:
    """Per-vertex error: the :func:`mpjpe` of two meshes, each first translated so that its root is the origin.

    The root is a point of each instance's own skeleton (SMPL's pelvis joint, or the mid-hip), as in the 3DPW
    evaluation of SPIN (Kolotouros et al., ICCV 2019) and later mesh-recovery papers.

    Args:
        pred_vertices (np.ndarray): Predicted vertices, shape (N, V, 3).
        gt_vertices (np.ndarray): Ground-truth vertices, shape (N, V, 3).
        pred_root (np.ndarray): Root of each predicted instance, shape (N, 3).
        gt_root (np.ndarray): Root of each ground-truth instance, shape (N, 3).

    Returns:
        float: The mean vertex error, in the unit of the inputs.
    """
    pred_vertices, gt_vertices = _as_pose_pair(pred_vertices, gt_vertices)
    roots = [np.asarray(root, dtype=np.float64) for root in (pred_root, gt_root)]
    for name, root in zip(('pred_root', 'gt_root'), roots):
        if root.shape != (pred_vertices.shape[0], 3):
            raise ValueError(f'{name} must have shape (N, 3) = ({pred_vertices.shape[0]}, 3), got {root.shape}')
    return mpjpe(pred=pred_vertices - roots[0][:, None], gt=gt_vertices - roots[1][:, None])
