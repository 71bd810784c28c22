"""Sampling and placing 2D people: a pose in the body frame, then size, rotation and position in the image."""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from .body_model import (FACE, HEAD_RADIUS, HIP_HALF, LIMB_KPTS, LIMB_LENGTHS, LIMB_WIDTHS, NECK_TO_HEAD,
                         SHOULDER_HALF, SIDES, TORSO)
from .coco_format import NUM_KEYPOINTS
from .config import SyntheticCocoConfig
from .geometry import box_iou, in_image, rotation
from .people3d import lift_person

__all__ = ['sample_skeleton', 'pose_in_image', 'place_person']


def sample_skeleton(rng: np.random.Generator, cfg: SyntheticCocoConfig, *,
                    limb_angles: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    """Draw one pose in the body frame (unit = person height, x to the person's left, y down).

    Args:
        limb_angles (np.ndarray, optional): (4, 2) degrees, (limb, segment), each segment's from the previous
            one's (the first from "down"), positive away from the midline, not scaled by ``limb_angle_scale``;
            replaces the drawn angles (drawn all the same, so that the other draws stay the same).

    Returns:
        dict: ``keypoints`` (K, 2), ``head`` (2,), ``head_radius`` (), ``limb_widths`` (4, 2) (limb, segment),
        ``torso_width`` (); for :func:`sample_depth`: ``aspect`` (), ``torso`` (), ``segment_ratio`` (4, 2)
        drawn over full segment length, ``face_offsets`` (5, 2) face points in head radii.
    """
    s = cfg.limb_angle_scale
    aspect = rng.uniform(*cfg.aspect_range)
    lean = np.deg2rad(rng.uniform(-12, 12) * s)
    head_tilt = np.deg2rad(rng.uniform(-15, 15) * s)
    torso = TORSO * rng.uniform(0.92, 1.08)
    head_radius = HEAD_RADIUS * rng.uniform(0.9, 1.1)
    yaw = rng.uniform(-0.3, 0.3) * min(s, 1.0)

    rot_torso = rotation(np.asarray(lean))
    neck = rot_torso @ np.array([0.0, -torso])
    shoulders = neck + (rot_torso @ np.array([[SHOULDER_HALF * aspect, -SHOULDER_HALF * aspect],
                                              [0.0, 0.0]])).T  # (2, 2) left, right
    hips = np.array([[HIP_HALF * aspect, 0.0], [-HIP_HALF * aspect, 0.0]])
    rot_head = rotation(np.asarray(lean + head_tilt))
    head = neck + rot_head @ np.array([0.0, -NECK_TO_HEAD])
    face_offsets = np.array([[yaw, 0.3], [0.45 + yaw, -0.15], [-0.45 + yaw, -0.15], [1.0, 0.05], [-1.0, 0.05]])
    face = head + (face_offsets * head_radius) @ rot_head.T

    # Limb angles (degrees) from "down", positive away from the midline; arms in the torso frame, legs the pelvis's.
    low = np.array([[-25.0, -40.0], [-25.0, -40.0], [-15.0, -45.0], [-15.0, -45.0]])
    high = np.array([[150.0, 130.0], [150.0, 130.0], [50.0, 45.0], [50.0, 45.0]])
    drawn = rng.uniform(low, high)
    angles = np.cumsum(np.deg2rad(drawn * s if limb_angles is None else np.asarray(limb_angles)), axis=1)
    segment_ratio = rng.uniform(1.0 - cfg.foreshortening, 1.0, size=(4, 2))
    lengths = LIMB_LENGTHS * segment_ratio
    directions = np.stack([SIDES[:, None] * np.sin(angles), np.cos(angles)], -1)
    frames = rotation(np.array([lean, lean, 0.0, 0.0]))
    directions = np.einsum('lij,lsj->lsi', frames, directions)
    roots = np.concatenate([shoulders, hips], 0)
    joints = roots[:, None] + np.cumsum(directions * lengths[..., None], axis=1)

    keypoints = np.zeros((NUM_KEYPOINTS, 2))
    keypoints[FACE] = face
    keypoints[LIMB_KPTS[:, 0]] = roots
    keypoints[LIMB_KPTS[:, 1:]] = joints
    return dict(keypoints=keypoints, head=head, head_radius=np.asarray(head_radius),
                limb_widths=LIMB_WIDTHS * aspect * rng.uniform(0.85, 1.2, size=(4, 1)),
                torso_width=np.asarray(0.05 * aspect), aspect=np.asarray(aspect), torso=np.asarray(torso),
                segment_ratio=segment_ratio, face_offsets=face_offsets)


def pose_in_image(pose: Dict[str, np.ndarray], height: float, theta: float, back_facing: bool) -> Dict:
    """A :func:`sample_skeleton` pose in pixels, pelvis centre at the origin: scaled to ``height``, mirrored when
    ``back_facing`` (seen from behind, the person's left is on the image's left), rotated by ``theta`` radians.

    Returns:
        dict: ``keypoints`` (K, 2), ``head`` (2,), ``head_radius``, ``limb_widths`` (4, 2), ``torso_width``,
        ``height``, ``back_facing``, ``box`` (4,) xyxy amodal box: keypoints and head disc, plus half the widest limb.
    """
    transform = rotation(np.asarray(theta)) * height * np.array([-1.0 if back_facing else 1.0, 1.0])
    keypoints = pose['keypoints'] @ transform.T
    head = pose['head'] @ transform.T
    head_radius = float(pose['head_radius']) * height
    margin = pose['limb_widths'].max() * height / 2.0
    low = np.minimum(keypoints.min(0), head - head_radius) - margin
    high = np.maximum(keypoints.max(0), head + head_radius) + margin
    return dict(keypoints=keypoints, head=head, head_radius=head_radius, limb_widths=pose['limb_widths'] * height,
                torso_width=float(pose['torso_width']) * height, height=height, back_facing=back_facing,
                box=np.concatenate([low, high]))


def place_person(rng: np.random.Generator, cfg: SyntheticCocoConfig,
                  placed_boxes: np.ndarray) -> Optional[Dict]:
    """Sample a pose, size, rotation and position until the person fits; ``None`` after ``placement_tries``.

    Args:
        placed_boxes (np.ndarray): (M, 4) xyxy boxes of the people already placed in the image.

    Returns:
        dict | None: in pixels ``keypoints`` (K, 2), ``head`` (2,), ``head_radius``, ``limb_widths`` (4, 2),
        ``torso_width``, ``height``, ``box`` (4,) xyxy; ``back_facing``; with ``with_3d`` :func:`lift_person`'s.
    """
    image_wh = np.asarray(cfg.image_size, dtype=np.float64)
    for _ in range(cfg.placement_tries):
        pose = sample_skeleton(rng, cfg)
        back_facing = bool(rng.random() < cfg.back_facing_prob)
        height = rng.uniform(*cfg.person_height)
        theta = np.deg2rad(rng.uniform(-cfg.rotation_range, cfg.rotation_range))
        truncate = bool(rng.random() < cfg.truncation_prob)
        person = pose_in_image(pose, height, theta, back_facing)
        low, high = person['box'][:2], person['box'][2:]
        slack = 0.45 * (high - low) if truncate else 0.0
        start, stop = -low - slack, image_wh - 1.0 - high + slack
        offset = rng.uniform(np.minimum(start, stop), np.maximum(start, stop))
        keypoints = person['keypoints'] + offset
        box = person['box'] + np.tile(offset, 2)
        if np.count_nonzero(in_image(keypoints, cfg.image_size)) < cfg.min_keypoints_in_image:
            continue
        if len(placed_boxes) and box_iou(box, placed_boxes).max() > cfg.max_overlap:
            continue
        person.update(keypoints=keypoints, head=person['head'] + offset, box=box)
        if cfg.with_3d:  # the only extra draws
            person.update(lift_person(rng, cfg, pose, height, back_facing))
        return person
    return None
