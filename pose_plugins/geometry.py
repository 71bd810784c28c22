"""Pure geometry of mesh recovery: rotation representations (6D, matrices, axis-angle) and the crop camera.

6D: Zhou, Barnes, Lu, Yang, Li, "On the Continuity of Rotation Representations in Neural Networks", CVPR 2019
(https://arxiv.org/abs/1812.07035), a continuous representation as regression needs: Gram-Schmidt of two
regressed 3-vectors gives the first two columns, their cross product the third. Layout as SPIN's, ``R[:, :2]``
row by row ``(R00, R01, R10, R11, R20, R21)``, so SPIN / HMR ``smpl_mean_params.npz`` files read unchanged;
identity ``(1, 0, 0, 1, 0, 0)``. Axis-angle is SMPL's ``pose`` (axis times angle, radians).

Camera: HMR's (Kanazawa et al., CVPR 2018) weak-perspective ``(s, tx, ty)`` in SPIN's (Kolotouros et al., ICCV
2019) perspective form, translation ``(tx, ty, 2 f / (res s))``; X right, Y down, Z forward; image offsets in crop
pixels from the crop centre.

Note:
    ``...``: any leading batch dimensions.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['rotation_6d_to_matrix', 'matrix_to_rotation_6d', 'axis_angle_to_matrix', 'matrix_to_axis_angle',
           'mirror_rotations', 'IDENTITY_6D', 'camera_translation', 'project_points', 'mirror_camera']

#: The identity rotation in the 6D layout above.
IDENTITY_6D = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# |a1| or the component of a2 orthogonal to b1 below this is a degenerate input; clamped (F.normalize's eps).
_EPS = 1e-8


def rotation_6d_to_matrix(x: Tensor) -> Tensor:
    """Gram-Schmidt of the two regressed columns: (..., 6) -> rotation matrices (..., 3, 3).

    Orthonormal with determinant +1 for any input whose two columns are not parallel (the cross product makes
    the frame right-handed). Differentiable.
    """
    if x.shape[-1] != 6:
        raise ValueError(f'rotation_6d_to_matrix: the last dimension must be 6, got shape {tuple(x.shape)}')
    a1, a2 = x[..., 0::2], x[..., 1::2]
    b1 = F.normalize(a1, dim=-1, eps=_EPS)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=_EPS)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_rotation_6d(matrix: Tensor) -> Tensor:
    """The 6D representation of rotation matrices: (..., 3, 3) -> (..., 6) (the inverse of
    :func:`rotation_6d_to_matrix` on rotations)."""
    if matrix.shape[-2:] != (3, 3):
        raise ValueError(f'matrix_to_rotation_6d: expected (..., 3, 3), got shape {tuple(matrix.shape)}')
    return matrix[..., :2].reshape(*matrix.shape[:-2], 6)


def axis_angle_to_matrix(axis_angle: Tensor) -> Tensor:
    """Rodrigues' formula: (..., 3) axis * angle (radians) -> (..., 3, 3).

    ``sin(t) / t`` and ``(1 - cos(t)) / t^2`` are evaluated by their Taylor series for ``t < 1e-3`` (float32:
    the series' next terms are below 1e-13), so the zero rotation is exact and has finite gradients.
    """
    if axis_angle.shape[-1] != 3:
        raise ValueError(f'axis_angle_to_matrix: the last dimension must be 3, got shape {tuple(axis_angle.shape)}')
    theta2 = (axis_angle * axis_angle).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    theta = theta2.clamp_min(1e-12).sqrt()
    small = theta < 1e-3
    sin_t = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(theta) / theta)
    cos_t = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(theta)) / theta2.clamp_min(1e-12))
    x, y, z = axis_angle.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*axis_angle.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand_as(skew)
    return eye + sin_t * skew + cos_t * (skew @ skew)


def matrix_to_axis_angle(matrix: Tensor) -> Tensor:
    """Rotation matrices (..., 3, 3) -> axis * angle (..., 3), angle in [0, pi].

    Through the quaternion (Shepperd's method: the largest of ``1 + trace``, ``1 + 2 R_ii - trace`` chooses the
    stable formula), then ``2 atan2(|v|, w)``; accurate near 0 and near pi, where the skew part vanishes.
    """
    if matrix.shape[-2:] != (3, 3):
        raise ValueError(f'matrix_to_axis_angle: expected (..., 3, 3), got shape {tuple(matrix.shape)}')
    m = matrix
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    candidates = torch.stack([1.0 + trace, 1.0 + 2 * m[..., 0, 0] - trace, 1.0 + 2 * m[..., 1, 1] - trace,
                              1.0 + 2 * m[..., 2, 2] - trace], dim=-1)  # 4 w^2, 4 x^2, 4 y^2, 4 z^2
    best = candidates.argmax(-1, keepdim=True)
    # each row: 4 * q * (the largest component), then divided by 2 sqrt(its candidate)
    rows = torch.stack([
        torch.stack([1.0 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0],
                     m[..., 1, 0] - m[..., 0, 1]], -1),
        torch.stack([m[..., 2, 1] - m[..., 1, 2], candidates[..., 1], m[..., 0, 1] + m[..., 1, 0],
                     m[..., 0, 2] + m[..., 2, 0]], -1),
        torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], candidates[..., 2],
                     m[..., 1, 2] + m[..., 2, 1]], -1),
        torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1],
                     candidates[..., 3]], -1)], dim=-2)  # (..., 4, 4)
    index = best[..., None].expand(*best.shape[:-1], 1, 4)
    quat = rows.gather(-2, index).squeeze(-2)
    quat = quat / (2.0 * candidates.gather(-1, best).clamp_min(1e-12).sqrt())
    quat = torch.where(quat[..., :1] < 0, -quat, quat)  # w >= 0: angle in [0, pi]
    vec = quat[..., 1:]
    norm = vec.norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(norm, quat[..., :1])
    # angle / sin(angle / 2) -> 2 as the angle -> 0
    factor = torch.where(norm < 1e-6, 2.0 / quat[..., :1].clamp_min(1e-12), angle / norm.clamp_min(1e-12))
    return vec * factor


def mirror_rotations(rotations: Tensor, flip_indices: Tensor) -> Tensor:
    """Rotations (B, J, 3, 3) of the mirror-image body (x -> -x): ``M R M`` with ``M = diag(-1, 1, 1)``, i.e.
    axis-angle ``(x, y, z) -> (x, -y, -z)``, each joint moved to its partner ``flip_indices`` (J, ). An involution.
    """
    sign = rotations.new_tensor([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]])
    return (rotations * sign)[:, torch.as_tensor(flip_indices, device=rotations.device)]


def camera_translation(camera: Tensor, *, focal_length: float, resolution: float) -> Tensor:
    """(B, 3) ``(s, tx, ty)`` -> (B, 3) ``(tx, ty, 2 f / (res * s))``, ``s`` clamped to >= 1e-3."""
    if camera.ndim != 2 or camera.shape[-1] != 3:
        raise ValueError(f'camera_translation: camera must be (B, 3) = (s, tx, ty), got {tuple(camera.shape)}')
    scale = camera[:, :1].clamp_min(1e-3)
    return torch.cat([camera[:, 1:], 2.0 * focal_length / (resolution * scale)], dim=1)


def project_points(points: Tensor, translation: Tensor, *, focal_length: float) -> Tensor:
    """Points (B, N, 3) + ``translation`` (B, 3) -> offsets (B, N, 2) ``f (X + tx) / (Z + tz)``, likewise Y."""
    moved = points + translation[:, None]
    return focal_length * moved[..., :2] / moved[..., 2:].clamp_min(1e-3)


def mirror_camera(camera: Tensor, *, resolution: float) -> Tensor:
    """The camera (B, 3) ``(s, tx, ty)`` of the horizontally mirrored crop mapped back: ``tx -> -tx - 2 / (res s)``
    (the image flip maps pixel ``x`` to ``res - 1 - x``, one pixel off a mirror about the crop centre)."""
    scale = camera[:, 0].clamp_min(1e-3)
    return torch.stack([camera[:, 0], -camera[:, 1] - 2.0 / (resolution * scale), camera[:, 2]], dim=1)
