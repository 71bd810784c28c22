"""The parametric body of a synthetic person: rest skeleton, limb tables and the 3D root and depth bounds.

Units are the person's height (the ``person_height`` of :class:`~.config.SyntheticCocoConfig`); K = 17 COCO
keypoints; limbs are ordered (left arm, right arm, left leg, right leg), each with a (proximal, distal) segment.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = ['ROOT_INDICES', 'MAX_ROOT_DEPTH_MM', 'MIN_ROOT_DISTANCE', 'FACE', 'TORSO', 'SHOULDER_HALF', 'HIP_HALF',
           'NECK_TO_HEAD', 'HEAD_RADIUS', 'LIMB_LENGTHS', 'LIMB_WIDTHS', 'SIDES', 'LIMB_KPTS']

# 3D: the root is the mean of the hips; every root-relative depth lies in +-MAX_ROOT_DEPTH_MM.
ROOT_INDICES: Tuple[int, int] = (11, 12)
MAX_ROOT_DEPTH_MM = 900.0
# Nearest root distance in units of MAX_ROOT_DEPTH_MM: keeps the marker scale Z_root / Z_j within [2/3, 2].
MIN_ROOT_DISTANCE = 2.0
FACE = np.arange(5)  # nose, eyes, ears
# Rest skeleton, body frame: x to the person's left, y down, pelvis centre at the origin.
TORSO, SHOULDER_HALF, HIP_HALF = 0.30, 0.11, 0.075
NECK_TO_HEAD, HEAD_RADIUS = 0.11, 0.065
LIMB_LENGTHS = np.array([[0.165, 0.15], [0.165, 0.15], [0.235, 0.235], [0.235, 0.235]])  # (limb, segment)
LIMB_WIDTHS = np.array([[0.055, 0.045], [0.055, 0.045], [0.075, 0.06], [0.075, 0.06]])
SIDES = np.array([1.0, -1.0, 1.0, -1.0])  # left arm, right arm, left leg, right leg
LIMB_KPTS = np.array([[5, 7, 9], [6, 8, 10], [11, 13, 15], [12, 14, 16]])  # root, middle, end
