"""Lifting 2D people to 3D (``with_3d=True``): out-of-plane depths of a pose, real size and root distance."""
from __future__ import annotations

from typing import Dict

import numpy as np

from .body_model import (FACE, HIP_HALF, LIMB_KPTS, LIMB_LENGTHS, MAX_ROOT_DEPTH_MM, NECK_TO_HEAD, ROOT_INDICES,
                         SHOULDER_HALF, SIDES)
from .coco_format import NUM_KEYPOINTS
from .config import SyntheticCocoConfig
from .geometry import pinhole_camera

__all__ = ['sample_depth', 'lift_person']

# Degrees (times limb_angle_scale): shoulder / hip twist about the vertical, upper-body lean to the camera.
# Head radii: ears behind the head centre, nose out of the head sphere.
_TWIST_RANGE, _LEAN_3D_RANGE = np.array([20.0, 12.0]), 10.0
_EAR_DEPTH, _NOSE_OUT = 0.25, 1.15


def sample_depth(rng: np.random.Generator, cfg: SyntheticCocoConfig, pose: Dict[str, np.ndarray]) -> np.ndarray:
    """Draw the out-of-plane component of a pose from :func:`sample_skeleton`: shoulder/hip twist, upper-body
    lean, and a limb segment drawn ``l`` of ``L`` long leaving the image plane by ``L sqrt(1 - (l / L)^2)``
    (random sign). Unit = person height, positive = away from the camera (person facing it).

    Returns:
        np.ndarray: (K,) depth of each keypoint relative to the mean of the hips (:data:`ROOT_INDICES`).
    """
    s = cfg.limb_angle_scale
    twist = np.sin(np.deg2rad(rng.uniform(-1.0, 1.0, size=2) * _TWIST_RANGE * s))
    lean = np.sin(np.deg2rad(rng.uniform(-_LEAN_3D_RANGE, _LEAN_3D_RANGE) * s))
    signs = np.where(rng.random(size=(4, 2)) < 0.5, -1.0, 1.0)

    depth = np.zeros(NUM_KEYPOINTS)
    half_widths = np.array([SHOULDER_HALF, HIP_HALF]) * float(pose['aspect']) * twist
    depth[LIMB_KPTS[:, 0]] = (np.array([lean * float(pose['torso'])] * 2 + [0.0] * 2)
                               + np.repeat(half_widths, 2) * SIDES)
    front = np.sqrt(np.clip(1.0 - np.sum(pose['face_offsets'][:3] ** 2, axis=1), 0.0, 1.0))
    face = np.concatenate([-front * np.array([_NOSE_OUT, 1.0, 1.0]), [_EAR_DEPTH, _EAR_DEPTH]])
    depth[FACE] = lean * (float(pose['torso']) + NECK_TO_HEAD) + face * float(pose['head_radius'])
    out_of_plane = LIMB_LENGTHS * np.sqrt(1.0 - pose['segment_ratio'] ** 2) * signs
    depth[LIMB_KPTS[:, 1:]] = depth[LIMB_KPTS[:, :1]] + np.cumsum(out_of_plane, axis=1)
    return depth - depth[list(ROOT_INDICES)].mean()


def lift_person(rng: np.random.Generator, cfg: SyntheticCocoConfig, pose: Dict[str, np.ndarray], height: float,
                 back_facing: bool) -> Dict:
    """Real size, root distance and root-relative joint depths of a placed person (3D only).

    Returns:
        dict: ``root_depth`` () ``Z_root`` in mm, ``depth`` (K,) ``Z_j - Z_root`` in mm, within
        ``+-MAX_ROOT_DEPTH_MM``.
    """
    height_mm = rng.uniform(*cfg.person_height_mm)
    depth = sample_depth(rng, cfg, pose) * height_mm * (-1.0 if back_facing else 1.0)
    largest = np.abs(depth).max()
    if largest > MAX_ROOT_DEPTH_MM:  # only with extreme foreshortening
        depth = depth * (MAX_ROOT_DEPTH_MM / largest)
    focal, _ = pinhole_camera(cfg)
    return dict(root_depth=float(focal[0] * height_mm / height), depth=depth)
