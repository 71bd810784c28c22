"""The crop camera of HMR-style mesh recovery: a weak-perspective camera ``(s, tx, ty)`` and its perspective twin.

Kanazawa et al., "End-to-end Recovery of Human Shape and Pose", CVPR 2018 (HMR) regress a weak-perspective
camera per crop: normalised image coordinates ``s * (X + tx, Y + ty)`` of a body point ``(X, Y, Z)``. Kolotouros
et al., "Learning to Reconstruct 3D Human Pose and Shape via Model-fitting in the Loop", ICCV 2019 (SPIN) turn it
into a camera translation ``t = (tx, ty, 2 f / (res * s))`` for a pinhole camera of focal length ``f`` (5000 px,
long enough that perspective barely matters) centred on the crop, and project with perspective:
``u = f (X + tx) / (Z + tz)``. For ``|Z| << tz`` this is ``res / 2 * s * (X + tx)``, the weak-perspective point.

Coordinates: camera frame X right, Y down, Z forward (away from the camera); image offsets ``u, v`` in crop pixels
from the crop centre ``(res / 2, res / 2)``; normalised coordinates are those offsets over ``res / 2`` (in
[-1, 1] inside the crop).

Note:
    B: batch size; N: points.
"""
import torch
from torch import Tensor

__all__ = ['camera_translation', 'project_points']


def camera_translation(camera: Tensor, *, focal_length: float, resolution: float) -> Tensor:
    """Weak-perspective camera (B, 3) ``(s, tx, ty)`` -> translation (B, 3) ``(tx, ty, 2 f / (res * s))``.

    ``s`` is clamped to >= 1e-3 (a body 1 m wide then spans 0.1 % of the crop), so that an early, wild
    regression gives a far-away body instead of an infinite or negative depth.
    """
    if camera.ndim != 2 or camera.shape[-1] != 3:
        raise ValueError(f'camera_translation: camera must be (B, 3) = (s, tx, ty), got {tuple(camera.shape)}')
    scale = camera[:, :1].clamp_min(1e-3)
    return torch.cat([camera[:, 1:], 2.0 * focal_length / (resolution * scale)], dim=1)


def project_points(points: Tensor, translation: Tensor, *, focal_length: float) -> Tensor:
    """Perspective projection of body points (B, N, 3) moved by ``translation`` (B, 3): -> crop-pixel offsets
    (B, N, 2) from the crop centre, ``f (X + tx) / (Z + tz)`` and ``f (Y + ty) / (Z + tz)``.

    Depths are clamped to >= 1e-3 m; a body point never reaches the camera for the depths
    :func:`camera_translation` gives (``tz >= 2 f / res`` >> 1 m).
    """
    moved = points + translation[:, None]
    return focal_length * moved[..., :2] / moved[..., 2:].clamp_min(1e-3)
