"""COCO person-keypoints constants that the synthetic generator writes: keypoint names and order, skeleton,
flip pairs, the ``person`` category, the splits and the kinds of degenerate annotation."""
from __future__ import annotations

from typing import Dict, Tuple

__all__ = ['COCO_KEYPOINT_NAMES', 'NUM_KEYPOINTS', 'COCO_SKELETON', 'COCO_FLIP_INDICES', 'COCO_PERSON_CATEGORY',
           'DEGENERATE_KINDS', 'SPLITS']


COCO_KEYPOINT_NAMES: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
    'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee',
    'left_ankle', 'right_ankle')
NUM_KEYPOINTS = len(COCO_KEYPOINT_NAMES)
# COCO's skeleton, 1-based keypoint indices as in person_keypoints_*.json.
COCO_SKELETON: Tuple[Tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9), (8, 10),
    (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
# Index of each keypoint's mirror partner (mmpose's coco.py ``flip_indices``).
COCO_FLIP_INDICES: Tuple[int, ...] = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
COCO_PERSON_CATEGORY: Dict = {
    'supercategory': 'person', 'id': 1, 'name': 'person', 'keypoints': list(COCO_KEYPOINT_NAMES),
    'skeleton': [list(link) for link in COCO_SKELETON]}
DEGENERATE_KINDS: Tuple[str, ...] = ('zero_area', 'no_keypoints')
SPLITS: Tuple[str, ...] = ('train', 'val')
