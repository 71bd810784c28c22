"""Synthetic COCO-format people: deterministic images + ``person_keypoints_*.json`` without any download.

No dataset can be downloaded where pose_plugins is developed and tested, so tests, the CPU demo and the
benchmarks train and evaluate on people rendered here. The output is real COCO person-keypoints data laid out
as mmpose expects under ``data/coco``, so mmpose's own ``CocoDataset``, pipelines and ``CocoMetric`` (OKS AP
through xtcocotools) are used end to end; a config only changes ``data_root``::

    OUT/annotations/person_keypoints_train2017.json
    OUT/annotations/person_keypoints_val2017.json
    OUT/train2017/000000000001.jpg ...
    OUT/val2017/000000000001.jpg ...
    OUT/person_detection_results/val_gt_boxes.json   # "detector" boxes = GT boxes, score 1.0

What is drawn (one image, ``numpy`` + ``cv2`` only):

* a textured background: a two-colour linear gradient, low-frequency colour noise and random lines,
  rectangles and circles;
* 1-3 people (``people_per_image``), each a parametric skeleton of the 17 COCO keypoints: random limb angles,
  torso lean, head tilt/yaw, body width (``aspect_range``), limb foreshortening, height in pixels
  (``person_height``) and in-plane rotation (``rotation_range``). Limbs are thick strokes in random clothing
  colours, the torso a filled polygon, the head a skin-coloured disc with eyes and nose drawn on it;
  smaller (farther) people are drawn first, so nearer ones occlude them;
* a marker disc on every joint, coloured by joint *type* (all wrists one colour, all knees another, ...);
* random occluders (textured rectangles/ellipses) over part of a person (``occlusion_prob``);
* people placed partly outside the image (``truncation_prob``);
* Gaussian pixel noise, then a JPEG at a fixed quality.

Left and right: by default everyone faces the camera, so the person's left side is on the image's right in
the person's upright frame (the head gives "up"). This is the only left/right cue, and it is the one cue that
survives mmpose's ``RandomFlip`` and flip test: mirroring the image and swapping the left/right labels (COCO
``flip_indices``) yields again a camera-facing person with the same rule. Marker colours are therefore the same
for the left and the right joint of a pair. Colouring the sides differently (``side_colours=True``) makes
left/right trivial to see, but then a flipped image teaches "red disc = right wrist" while the unflipped one
teaches "red disc = left wrist": use it only without flip augmentation and flip test.
``back_facing_prob`` adds people seen from behind (mirrored skeleton, no face drawn, nose and eyes labelled
as occluded, as in COCO).

Labels follow COCO: visibility 2 = the joint's pixel shows this person; 1 = inside the image but covered by an
occluder or by a nearer person (or a hidden face point of a back-facing person); 0 = outside the image, stored
as ``x = y = 0``. ``num_keypoints`` counts the labels > 0. ``bbox`` is the tight box of the person's whole
(amodal) silhouette clipped to the image, enlarged if needed to hold every labelled keypoint; ``segmentation``
holds polygons of the *visible* silhouette and ``area`` its pixel count (COCO's definition, used by OKS).

Degenerate annotations: ``num_degenerate_annotations=n`` appends ``n`` annotations per split, cycling over
:data:`DEGENERATE_KINDS` and over the split's images: ``'zero_area'`` (``bbox`` ``[x, y, 0, 0]``, no keypoints)
and ``'no_keypoints'`` (a normal box, all 17 keypoints ``0, 0, 0``, ``num_keypoints`` 0). Both are valid COCO
(COCOeval ignores them since ``num_keypoints == 0``) and mmpose's top-down loader must skip them; they use
their own random stream, so the images and the other annotations do not change when they are switched on.
They never enter the detector-box file, and a split without images gets none.

Determinism: image ``i`` of a split is drawn from ``numpy.random.default_rng(SeedSequence(seed, spawn_key=
(split, i)))``, so the same seed gives byte-identical JSON and identical JPEGs, and the first ``n`` images do not
depend on how many are generated.

Difficulty knobs (all in :class:`SyntheticCocoConfig`): easier data has fewer people, a narrower
``person_height`` range, smaller ``rotation_range``/``limb_angle_scale``/``foreshortening``, no occlusion or
truncation and larger ``marker_radius``; harder data the opposite, ``marker_radius=0`` (no joint markers),
``back_facing_prob > 0`` and more ``background_shapes``.

3D people (``with_3d=True``): the same 2D skeletons, lifted to camera coordinates in millimetres (X right,
Y down, Z forward from the camera) for a pinhole camera with square pixels, focal length
``f = focal_length * image width`` pixels and the principal point at the image centre ``c = (W / 2, H / 2)``:

* every image entry gets ``camera_param = {"f": [fx, fy], "c": [cx, cy]}`` (pixels);
* every annotation gets ``keypoints_3d``, a flat list of K * 3 floats ``X, Y, Z`` (mm, 4 decimals) for *all*
  17 keypoints whatever their visibility (degenerate annotations get zeros, like their 2D keypoints);
* depth: a person's unit of height (``person_height`` pixels) is ``person_height_mm`` real millimetres, which
  puts the root, the mean of the hips (keypoints 11 and 12, :data:`ROOT_INDICES`), at
  ``Z_root = f * height_mm / height_px``. Each joint gets a root-relative depth ``z_j`` from a plausible 3D
  pose: a limb segment that ``foreshortening`` drew ``l`` long out of ``L`` leaves the image plane by
  ``L * sqrt(1 - (l / L)^2)`` towards or away from the camera (random sign); shoulders and hips get a small body
  twist about the vertical axis, the upper body a small lean towards or away from the camera; nose and eyes
  lie on the front of the head sphere, the ears a little behind its centre; people seen from behind have
  their depths mirrored. ``|z_j| <= MAX_ROOT_DEPTH_MM`` (900 mm; a person's depths are scaled down in the rare
  case, only with extreme ``foreshortening``, that they exceed it), and ``Z_j = Z_root + z_j``;
* the 2D labels are untouched: ``X_j = (u_j - cx) Z_j / fx``, ``Y_j = (v_j - cy) Z_j / fy`` from the unrounded
  image position, so ``fx X / Z + cx`` gives back the stored ``u`` to its 2-decimal rounding (for unlabelled
  keypoints, stored as ``0, 0``, the position outside the image they had);
* the depth cue, a synthetic convenience that makes depth learnable from one picture: the joint-marker discs
  keep their joint-type colour and are drawn with radius ``marker_radius * height_px * Z_root / Z_j``
  (perspective: nearer joints, larger discs), and each gets a grey centre dot (``_DEPTH_DOT`` of its radius)
  whose grey level encodes the root-relative depth, the same for every joint type:
  ``127.5 * (1 + depth_shading * tanh(-z_j / 300 mm))``, white-ish nearer than the root, black-ish farther
  (mid-grey at the root; 172 / 83 at -/+150 mm with the default 0.8); markers are drawn farther first, so
  nearer ones cover farther ones, and people farther (larger ``Z_root``) first. Real photographs have no such
  cue. (A first version shaded the whole disc relative to its type colour; a small CPU model did not learn to
  read that relative cue within the demo's schedule, while it learns an absolute one.)

The 3D draws come from the same per-image generator but only when ``with_3d=True``, and the 3D knobs are
recorded in the files' ``info.config`` only then, so the default output is byte-identical to the 2D-only
generator's.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'SyntheticCocoConfig', 'make_synthetic_coco', 'render_synthetic_image', 'COCO_KEYPOINT_NAMES',
    'COCO_SKELETON', 'COCO_FLIP_INDICES', 'COCO_PERSON_CATEGORY', 'DEGENERATE_KINDS', 'SPLITS',
    'MAX_ROOT_DEPTH_MM', 'ROOT_INDICES'
]

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
# 3D: the root joint is the mean of these keypoints (left and right hip), and every root-relative depth lies in
# [-MAX_ROOT_DEPTH_MM, MAX_ROOT_DEPTH_MM] (a 3D model maps +-1000 mm to its depth bins).
ROOT_INDICES: Tuple[int, int] = (11, 12)
MAX_ROOT_DEPTH_MM = 900.0
# The nearest possible root must be at least this many times MAX_ROOT_DEPTH_MM from the camera, so that every
# joint is in front of it and the perspective marker scale Z_root / Z_j stays within [2/3, 2].
_MIN_ROOT_DISTANCE = 2.0
# Config fields that only matter with with_3d=True: written to info.config only then (byte-identical 2D files).
_3D_FIELDS: Tuple[str, ...] = ('with_3d', 'focal_length', 'person_height_mm', 'depth_shading')

# Joint type of each keypoint (nose, eye, ear, shoulder, elbow, wrist, hip, knee, ankle) and one BGR marker
# colour per type; left and right of a pair share a type, hence a colour (see the module docstring).
_JOINT_TYPE = np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8])
_TYPE_COLOURS = np.array([
    (40, 40, 230), (40, 230, 230), (230, 40, 230), (40, 210, 40), (230, 120, 20), (20, 140, 255),
    (230, 230, 40), (150, 40, 230), (250, 250, 250)], dtype=np.float64)
_IS_RIGHT = np.array([k > 0 and k % 2 == 0 for k in range(NUM_KEYPOINTS)])
_FACE = np.arange(5)
_SKIN_TONES = np.array([(60, 80, 120), (80, 110, 160), (100, 140, 200), (140, 180, 230), (170, 205, 240)],
                       dtype=np.float64)
# Rest skeleton in units of the person's height, body frame: x to the person's left, y down, pelvis centre
# at the origin. Upright height (head top to ankles) is 0.475 + 0.475 = 0.95 of the unit.
_TORSO, _SHOULDER_HALF, _HIP_HALF = 0.30, 0.11, 0.075
_NECK_TO_HEAD, _HEAD_RADIUS = 0.11, 0.065
# 3D pose ranges in degrees (times limb_angle_scale): twist of shoulders / hips about the vertical axis, lean
# of the upper body towards or away from the camera. Depth of the ears behind the head centre and how far the
# nose sticks out of the head sphere, in head radii.
_TWIST_RANGE, _LEAN_3D_RANGE = np.array([20.0, 12.0]), 10.0
_EAR_DEPTH, _NOSE_OUT = 0.25, 1.15
# Depth cue (3D only): a grey centre dot of this fraction of the marker radius, grey level
# 127.5 * (1 + depth_shading * tanh(-z / _SHADING_SCALE_MM)) — steep around the typical +-150 mm, still monotonic
# up to MAX_ROOT_DEPTH_MM.
_DEPTH_DOT, _SHADING_SCALE_MM = 0.6, 300.0
_LIMB_LENGTHS = np.array([[0.165, 0.15], [0.165, 0.15], [0.235, 0.235], [0.235, 0.235]])  # (limb, segment)
_LIMB_WIDTHS = np.array([[0.055, 0.045], [0.055, 0.045], [0.075, 0.06], [0.075, 0.06]])
_SIDES = np.array([1.0, -1.0, 1.0, -1.0])  # left arm, right arm, left leg, right leg
_LIMB_KPTS = np.array([[5, 7, 9], [6, 8, 10], [11, 13, 15], [12, 14, 16]])  # root, middle, end
_SHIFT = 4  # cv2 fixed-point bits: coordinates are drawn with 1/16 px precision
_SCALE = float(1 << _SHIFT)
_OCCLUDER_ID = 255
_FIRST_PERSON_ROUNDS = 50  # rounds of placement_tries before giving up on an image
# (image (H, W, 3) uint8, owner map (H, W) uint8: top person id / 255 occluder / 0 background, person mask (H, W))
Layers = Tuple[np.ndarray, np.ndarray, np.ndarray]


def _check_range(name: str, value: Tuple[float, float], low: float, high: float = math.inf) -> None:
    if len(value) != 2 or not (low <= value[0] <= value[1] <= high):
        raise ValueError(f'SyntheticCocoConfig.{name} must be (min, max) with {low} <= min <= max <= {high}, '
                         f'got {value!r}')


def _check_prob(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'SyntheticCocoConfig.{name} must be a probability in [0, 1], got {value!r}')


@dataclass(frozen=True)
class SyntheticCocoConfig:
    """Generation options of :func:`make_synthetic_coco` (frozen; ``dataclasses.replace`` makes variants).

    Args:
        image_size (tuple[int, int]): Image ``(width, height)`` in pixels. Defaults to ``(256, 256)``.
        people_per_image (tuple[int, int]): Inclusive ``(min, max)`` number of people tried per image; a person
            who cannot be placed within ``max_overlap`` after ``placement_tries`` is dropped, but every image
            keeps at least one. Defaults to ``(1, 3)``.
        person_height (tuple[float, float]): ``(min, max)`` upright height of a person in pixels, head top to
            ankles, before pose and rotation (the box is usually a little smaller). Defaults to ``(96, 208)``.
        aspect_range (tuple[float, float]): ``(min, max)`` factor on shoulder/hip width and limb thickness.
        rotation_range (float): Maximum absolute in-plane rotation of a person in degrees. Defaults to 30.
        limb_angle_scale (float): Factor on every pose angle range (limbs, lean, head); 0 gives the rest pose.
        foreshortening (float): Each limb segment's length is scaled by ``U(1 - foreshortening, 1)``.
        truncation_prob (float): Probability that a person may be placed partly outside the image.
        min_keypoints_in_image (int): A placement is rejected unless this many keypoints lie in the image.
        max_overlap (float): Maximum IoU between the boxes of two people of an image.
        placement_tries (int): Random placements tried per person before dropping them.
        occlusion_prob (float): Probability that a person gets an occluder over one of their joints.
        occluder_size (tuple[float, float]): ``(min, max)`` occluder size as a fraction of the person height.
        back_facing_prob (float): Probability that a person is seen from behind (see the module docstring).
        marker_radius (float): Joint-marker radius as a fraction of the person height; 0 draws no markers.
        side_colours (bool): Colour right-side markers differently from left ones. Breaks flip consistency;
            only for training without flip augmentation and testing without flip test.
        background_shapes (tuple[int, int]): ``(min, max)`` number of random shapes on the background.
        noise_std (float): Standard deviation of the Gaussian pixel noise, in grey levels.
        jpeg_quality (int): JPEG quality of the written images (fixed, for determinism).
        num_degenerate_annotations (int): Degenerate annotations appended to each split (module docstring).
        with_3d (bool): Also write camera coordinates ``keypoints_3d`` and ``camera_param``, and draw the depth
            cue on the joint markers (module docstring). Needs ``marker_radius > 0``. Defaults to False.
        focal_length (float): 3D only. Focal length in units of the image width (``fx = fy``). Defaults to 1.2.
        person_height_mm (tuple[float, float]): 3D only. ``(min, max)`` real size in millimetres of the person
            height unit (``person_height`` is the same unit in pixels). Defaults to ``(1500, 1900)``.
        depth_shading (float): 3D only. In [0, 1]: how far the markers' centre dots go from mid-grey towards
            white (nearer than the root) or black (farther), reached far from the root; 0 leaves only the
            perspective radius cue. Defaults to 0.8.
    """

    image_size: Tuple[int, int] = (256, 256)
    people_per_image: Tuple[int, int] = (1, 3)
    person_height: Tuple[float, float] = (96.0, 208.0)
    aspect_range: Tuple[float, float] = (0.85, 1.2)
    rotation_range: float = 30.0
    limb_angle_scale: float = 1.0
    foreshortening: float = 0.25
    truncation_prob: float = 0.15
    min_keypoints_in_image: int = 8
    max_overlap: float = 0.3
    placement_tries: int = 20
    occlusion_prob: float = 0.25
    occluder_size: Tuple[float, float] = (0.15, 0.35)
    back_facing_prob: float = 0.0
    marker_radius: float = 0.03
    side_colours: bool = False
    background_shapes: Tuple[int, int] = (4, 10)
    noise_std: float = 4.0
    jpeg_quality: int = 92
    num_degenerate_annotations: int = 0
    with_3d: bool = False
    focal_length: float = 1.2
    person_height_mm: Tuple[float, float] = (1500.0, 1900.0)
    depth_shading: float = 0.8

    def __post_init__(self) -> None:
        width, height = self.image_size
        if not (isinstance(width, int) and isinstance(height, int) and width >= 32 and height >= 32):
            raise ValueError(f'SyntheticCocoConfig.image_size must be (width, height) ints >= 32, '
                             f'got {self.image_size!r}')
        _check_range('people_per_image', self.people_per_image, 1, _OCCLUDER_ID - 1)
        _check_range('person_height', self.person_height, 16.0)
        _check_range('aspect_range', self.aspect_range, 0.1, 5.0)
        _check_range('occluder_size', self.occluder_size, 0.0, 2.0)
        _check_range('background_shapes', self.background_shapes, 0)
        for name in ('truncation_prob', 'max_overlap', 'occlusion_prob', 'back_facing_prob', 'foreshortening'):
            _check_prob(name, getattr(self, name))
        if not 0.0 <= self.rotation_range <= 180.0:
            raise ValueError(f'SyntheticCocoConfig.rotation_range must be in [0, 180] degrees, '
                             f'got {self.rotation_range!r}')
        if not 0.0 <= self.limb_angle_scale <= 2.0:
            raise ValueError(f'SyntheticCocoConfig.limb_angle_scale must be in [0, 2], '
                             f'got {self.limb_angle_scale!r}')
        if not 1 <= self.min_keypoints_in_image <= NUM_KEYPOINTS:
            raise ValueError(f'SyntheticCocoConfig.min_keypoints_in_image must be in [1, {NUM_KEYPOINTS}], '
                             f'got {self.min_keypoints_in_image!r}')
        if self.placement_tries < 1:
            raise ValueError(f'SyntheticCocoConfig.placement_tries must be >= 1, got {self.placement_tries!r}')
        if not 0.0 <= self.marker_radius <= 0.2:
            raise ValueError(f'SyntheticCocoConfig.marker_radius must be in [0, 0.2], got {self.marker_radius!r}')
        if self.noise_std < 0:
            raise ValueError(f'SyntheticCocoConfig.noise_std must be >= 0, got {self.noise_std!r}')
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f'SyntheticCocoConfig.jpeg_quality must be in [1, 100], got {self.jpeg_quality!r}')
        if self.num_degenerate_annotations < 0:
            raise ValueError(f'SyntheticCocoConfig.num_degenerate_annotations must be >= 0, '
                             f'got {self.num_degenerate_annotations!r}')
        self._check_3d()

    def _check_3d(self) -> None:
        """Validate the 3D knobs (always), and what ``with_3d=True`` needs of the others."""
        if not isinstance(self.with_3d, bool):
            raise ValueError(f'SyntheticCocoConfig.with_3d must be a bool, got {self.with_3d!r}')
        if not 0.2 <= self.focal_length <= 10.0:
            raise ValueError(f'SyntheticCocoConfig.focal_length must be in [0.2, 10] image widths, '
                             f'got {self.focal_length!r}')
        _check_range('person_height_mm', self.person_height_mm, 100.0, 5000.0)
        _check_prob('depth_shading', self.depth_shading)
        if not self.with_3d:
            return
        if self.marker_radius == 0.0:
            raise ValueError('SyntheticCocoConfig.marker_radius must be > 0 when with_3d=True: the joint markers '
                             'carry the depth cue, got 0.0')
        nearest = self.focal_length * self.image_size[0] * self.person_height_mm[0] / self.person_height[1]
        if nearest < _MIN_ROOT_DISTANCE * MAX_ROOT_DEPTH_MM:
            raise ValueError(
                f'SyntheticCocoConfig: with focal_length={self.focal_length!r}, image_size={self.image_size!r}, '
                f'person_height_mm={self.person_height_mm!r} and person_height={self.person_height!r} the nearest '
                f'person would stand {nearest:.0f} mm from the camera; it must be >= '
                f'{_MIN_ROOT_DISTANCE * MAX_ROOT_DEPTH_MM:.0f} mm (raise focal_length or person_height_mm, or '
                f'lower the maximum person_height)')


# ----------------------------------------------------------------------------------------------------------
# geometry


def _rotation(angle: np.ndarray) -> np.ndarray:
    """Rotation matrices for angles in radians: (...,) -> (..., 2, 2), acting on column vectors (x, y)."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)


def _sample_skeleton(rng: np.random.Generator, cfg: SyntheticCocoConfig) -> Dict[str, np.ndarray]:
    """Draw one pose in the body frame (unit = person height, x to the person's left, y down).

    Returns:
        dict: ``keypoints`` (K, 2), ``head`` (2,) head centre, ``head_radius`` (), ``limb_widths`` (4, 2)
        stroke widths of (left arm, right arm, left leg, right leg) x (proximal, distal), ``torso_width`` ();
        for :func:`_sample_depth`: ``aspect`` (), ``torso`` () length, ``segment_ratio`` (4, 2) drawn length
        over full length of each limb segment, ``face_offsets`` (5, 2) face points in head radii (head frame).
    """
    s = cfg.limb_angle_scale
    aspect = rng.uniform(*cfg.aspect_range)
    lean = np.deg2rad(rng.uniform(-12, 12) * s)
    head_tilt = np.deg2rad(rng.uniform(-15, 15) * s)
    torso = _TORSO * rng.uniform(0.92, 1.08)
    head_radius = _HEAD_RADIUS * rng.uniform(0.9, 1.1)
    yaw = rng.uniform(-0.3, 0.3) * min(s, 1.0)

    rot_torso = _rotation(np.asarray(lean))
    neck = rot_torso @ np.array([0.0, -torso])
    shoulders = neck + (rot_torso @ np.array([[_SHOULDER_HALF * aspect, -_SHOULDER_HALF * aspect],
                                              [0.0, 0.0]])).T  # (2, 2) left, right
    hips = np.array([[_HIP_HALF * aspect, 0.0], [-_HIP_HALF * aspect, 0.0]])
    rot_head = _rotation(np.asarray(lean + head_tilt))
    head = neck + rot_head @ np.array([0.0, -_NECK_TO_HEAD])
    face_offsets = np.array([[yaw, 0.3], [0.45 + yaw, -0.15], [-0.45 + yaw, -0.15], [1.0, 0.05], [-1.0, 0.05]])
    face = head + (face_offsets * head_radius) @ rot_head.T

    # Limb angles from the frame's "down", positive = away from the body midline; arms hang from the torso
    # frame, legs from the pelvis frame. Proximal/distal ranges in degrees for (arm, arm, leg, leg).
    low = np.array([[-25.0, -40.0], [-25.0, -40.0], [-15.0, -45.0], [-15.0, -45.0]])
    high = np.array([[150.0, 130.0], [150.0, 130.0], [50.0, 45.0], [50.0, 45.0]])
    angles = np.cumsum(np.deg2rad(rng.uniform(low, high) * s), axis=1)  # (4, 2) absolute segment angles
    segment_ratio = rng.uniform(1.0 - cfg.foreshortening, 1.0, size=(4, 2))
    lengths = _LIMB_LENGTHS * segment_ratio
    directions = np.stack([_SIDES[:, None] * np.sin(angles), np.cos(angles)], -1)  # (4, 2, 2)
    frames = _rotation(np.array([lean, lean, 0.0, 0.0]))  # (4, 2, 2)
    directions = np.einsum('lij,lsj->lsi', frames, directions)
    roots = np.concatenate([shoulders, hips], 0)  # (4, 2)
    joints = roots[:, None] + np.cumsum(directions * lengths[..., None], axis=1)  # (4, 2, 2)

    keypoints = np.zeros((NUM_KEYPOINTS, 2))
    keypoints[_FACE] = face
    keypoints[_LIMB_KPTS[:, 0]] = roots
    keypoints[_LIMB_KPTS[:, 1:]] = joints
    return dict(keypoints=keypoints, head=head, head_radius=np.asarray(head_radius),
                limb_widths=_LIMB_WIDTHS * aspect * rng.uniform(0.85, 1.2, size=(4, 1)),
                torso_width=np.asarray(0.05 * aspect), aspect=np.asarray(aspect), torso=np.asarray(torso),
                segment_ratio=segment_ratio, face_offsets=face_offsets)


def _sample_depth(rng: np.random.Generator, cfg: SyntheticCocoConfig, pose: Dict[str, np.ndarray]) -> np.ndarray:
    """Draw the out-of-plane component of a pose from :func:`_sample_skeleton` (3D only).

    Body frame of a person facing the camera, unit = person height, positive = away from the camera; see the
    module docstring for the model. Draws shoulder/hip twist, upper-body lean and one sign per limb segment.

    Returns:
        np.ndarray: (K,) depth of each keypoint relative to the mean of the hips (:data:`ROOT_INDICES`).
    """
    s = cfg.limb_angle_scale
    twist = np.sin(np.deg2rad(rng.uniform(-1.0, 1.0, size=2) * _TWIST_RANGE * s))  # shoulders, hips
    lean = np.sin(np.deg2rad(rng.uniform(-_LEAN_3D_RANGE, _LEAN_3D_RANGE) * s))
    signs = np.where(rng.random(size=(4, 2)) < 0.5, -1.0, 1.0)

    depth = np.zeros(NUM_KEYPOINTS)
    half_widths = np.array([_SHOULDER_HALF, _HIP_HALF]) * float(pose['aspect']) * twist
    depth[_LIMB_KPTS[:, 0]] = (np.array([lean * float(pose['torso'])] * 2 + [0.0] * 2)
                               + np.repeat(half_widths, 2) * _SIDES)
    # nose and eyes on the front of the head sphere (the nose sticking out), ears behind its centre; the head
    # centre is _NECK_TO_HEAD above the neck along the leaning torso
    front = np.sqrt(np.clip(1.0 - np.sum(pose['face_offsets'][:3] ** 2, axis=1), 0.0, 1.0))
    face = np.concatenate([-front * np.array([_NOSE_OUT, 1.0, 1.0]), [_EAR_DEPTH, _EAR_DEPTH]])
    depth[_FACE] = lean * (float(pose['torso']) + _NECK_TO_HEAD) + face * float(pose['head_radius'])
    # a segment drawn l long out of L leaves the image plane by L * sqrt(1 - (l / L)^2)
    out_of_plane = _LIMB_LENGTHS * np.sqrt(1.0 - pose['segment_ratio'] ** 2) * signs
    depth[_LIMB_KPTS[:, 1:]] = depth[_LIMB_KPTS[:, :1]] + np.cumsum(out_of_plane, axis=1)
    return depth - depth[list(ROOT_INDICES)].mean()


def _in_image(points: np.ndarray, image_size: Tuple[int, int]) -> np.ndarray:
    """Which points (..., 2) lie in the image, pixel centres ``0 .. size - 1``: -> bool (...)."""
    upper = np.asarray(image_size, dtype=np.float64) - 1.0
    return np.all((points >= 0.0) & (points <= upper), axis=-1)


def _box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box (4,) with boxes (M, 4): -> (M,)."""
    top_left = np.maximum(box[:2], boxes[:, :2])
    bottom_right = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0.0, None), axis=1)
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / (np.prod(box[2:] - box[:2]) + areas - inter + 1e-9)


def _place_person(rng: np.random.Generator, cfg: SyntheticCocoConfig,
                  placed_boxes: np.ndarray) -> Optional[Dict]:
    """Sample a pose, size, rotation and position until the person fits; ``None`` after ``placement_tries``.

    Args:
        placed_boxes (np.ndarray): (M, 4) xyxy boxes of the people already placed in the image.

    Returns:
        dict | None: ``keypoints`` (K, 2) image coordinates, ``head`` (2,), ``head_radius``, ``limb_widths``
        (4, 2) and ``torso_width`` in pixels, ``height`` in pixels, ``back_facing`` and ``box`` (4,) xyxy;
        with ``with_3d`` also ``root_depth`` (``Z_root``, mm) and ``depth`` (K,) root-relative depths in mm.
    """
    image_wh = np.asarray(cfg.image_size, dtype=np.float64)
    for _ in range(cfg.placement_tries):
        pose = _sample_skeleton(rng, cfg)
        back_facing = bool(rng.random() < cfg.back_facing_prob)
        height = rng.uniform(*cfg.person_height)
        theta = np.deg2rad(rng.uniform(-cfg.rotation_range, cfg.rotation_range))
        truncate = bool(rng.random() < cfg.truncation_prob)
        # Seen from behind, the person's left is on the image's left: mirror the body frame.
        transform = _rotation(np.asarray(theta)) * height * np.array([-1.0 if back_facing else 1.0, 1.0])
        keypoints = pose['keypoints'] @ transform.T
        head = pose['head'] @ transform.T
        head_radius = float(pose['head_radius']) * height
        margin = pose['limb_widths'].max() * height / 2.0
        low = np.minimum(keypoints.min(0), head - head_radius) - margin
        high = np.maximum(keypoints.max(0), head + head_radius) + margin
        slack = 0.45 * (high - low) if truncate else 0.0
        start, stop = -low - slack, image_wh - 1.0 - high + slack
        offset = rng.uniform(np.minimum(start, stop), np.maximum(start, stop))
        keypoints = keypoints + offset
        box = np.concatenate([low, high]) + np.tile(offset, 2)
        if np.count_nonzero(_in_image(keypoints, cfg.image_size)) < cfg.min_keypoints_in_image:
            continue
        if len(placed_boxes) and _box_iou(box, placed_boxes).max() > cfg.max_overlap:
            continue
        person = dict(keypoints=keypoints, head=head + offset, head_radius=head_radius,
                      limb_widths=pose['limb_widths'] * height, torso_width=float(pose['torso_width']) * height,
                      height=height, back_facing=back_facing, box=box)
        if cfg.with_3d:  # the only extra draws, after the placement succeeded
            person.update(_lift_person(rng, cfg, pose, height, back_facing))
        return person
    return None


def _camera(cfg: SyntheticCocoConfig) -> Tuple[np.ndarray, np.ndarray]:
    """Pinhole camera of every image: focal lengths ``(fx, fy)`` (2,) and principal point ``(cx, cy)`` (2,)."""
    width, height = cfg.image_size
    return np.full(2, cfg.focal_length * width), np.array([width / 2.0, height / 2.0])


def _lift_person(rng: np.random.Generator, cfg: SyntheticCocoConfig, pose: Dict[str, np.ndarray], height: float,
                 back_facing: bool) -> Dict:
    """Real size, root distance and root-relative joint depths of a placed person (3D only).

    Returns:
        dict: ``root_depth`` () ``Z_root`` in mm, ``depth`` (K,) ``Z_j - Z_root`` in mm, within
        ``+-MAX_ROOT_DEPTH_MM``.
    """
    height_mm = rng.uniform(*cfg.person_height_mm)
    depth = _sample_depth(rng, cfg, pose) * height_mm * (-1.0 if back_facing else 1.0)
    largest = np.abs(depth).max()
    if largest > MAX_ROOT_DEPTH_MM:  # only with extreme foreshortening: keep the documented bound
        depth = depth * (MAX_ROOT_DEPTH_MM / largest)
    focal, _ = _camera(cfg)
    return dict(root_depth=float(focal[0] * height_mm / height), depth=depth)


# ----------------------------------------------------------------------------------------------------------
# drawing


def _fixed(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates (..., 2) -> cv2 fixed-point int32 coordinates (``shift=_SHIFT``)."""
    return np.round(np.asarray(points) * _SCALE).astype(np.int32)


def _paint(layers: Layers, person_id: int, colour: np.ndarray,
           draw: Callable[[np.ndarray, object, int], None]) -> None:
    """Run one cv2 primitive ``draw(canvas, colour, line_type)`` on the image, the owner map and the mask.

    The image (H, W, 3) gets the anti-aliased colour; the owner map (H, W) records ``person_id`` as the top
    layer of each pixel; the person's own mask (H, W) collects the whole (amodal) silhouette.
    """
    image, owner, mask = layers
    draw(image, tuple(float(c) for c in colour), cv2.LINE_AA)
    draw(owner, person_id, cv2.LINE_8)
    draw(mask, 1, cv2.LINE_8)


def _line(layers: Layers, person_id: int, colour: np.ndarray, start: np.ndarray, end: np.ndarray,
          width: float) -> None:
    p, q = tuple(_fixed(start).tolist()), tuple(_fixed(end).tolist())
    thickness = max(1, int(round(width)))
    _paint(layers, person_id, colour, lambda c, col, lt: cv2.line(c, p, q, col, thickness, lt, _SHIFT))


def _disc(layers: Layers, person_id: int, colour: np.ndarray, centre: np.ndarray, radius: float) -> None:
    c, r = tuple(_fixed(centre).tolist()), max(1, int(round(radius * _SCALE)))
    _paint(layers, person_id, colour, lambda canvas, col, lt: cv2.circle(canvas, c, r, col, -1, lt, _SHIFT))


def _polygon(layers: Layers, person_id: int, colour: np.ndarray, points: np.ndarray, edge_width: float) -> None:
    pts = _fixed(points).reshape(-1, 1, 2)
    thickness = max(1, int(round(edge_width)))

    def draw(canvas: np.ndarray, col, line_type: int) -> None:
        cv2.fillPoly(canvas, [pts], col, line_type, _SHIFT)
        cv2.polylines(canvas, [pts], True, col, thickness, line_type, _SHIFT)

    _paint(layers, person_id, colour, draw)


def _background(rng: np.random.Generator, cfg: SyntheticCocoConfig) -> np.ndarray:
    """Gradient + low-frequency colour noise + random shapes: -> (H, W, 3) uint8 BGR."""
    width, height = cfg.image_size
    colours = rng.uniform(0.0, 255.0, size=(2, 3)).astype(np.float32)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    xs = np.arange(width, dtype=np.float32) * np.float32(np.cos(angle))
    ys = np.arange(height, dtype=np.float32) * np.float32(np.sin(angle))
    ramp = ys[:, None] + xs[None, :]
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    grid = rng.normal(0.0, 1.0, size=(int(rng.integers(3, 9)), int(rng.integers(3, 9)), 3)).astype(np.float32)
    noise = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) * np.float32(rng.uniform(8.0, 35.0))
    image = colours[0] + ramp[..., None] * (colours[1] - colours[0]) + noise
    image = np.clip(image, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(cfg.background_shapes[0], cfg.background_shapes[1] + 1))):
        kind = int(rng.integers(3))
        colour = tuple(float(c) for c in rng.uniform(0.0, 255.0, size=3))
        p, q = (rng.uniform(-0.1, 1.1, size=(2, 2)) * (width, height)).astype(np.int32).tolist()
        thickness = -1 if (kind > 0 and rng.random() < 0.5) else int(rng.integers(1, 4))
        if kind == 0:
            cv2.line(image, tuple(p), tuple(q), colour, max(thickness, 1), cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(image, tuple(p), tuple(q), colour, thickness, cv2.LINE_AA)
        else:
            radius = int(rng.uniform(0.03, 0.2) * min(width, height))
            cv2.circle(image, tuple(p), radius, colour, thickness, cv2.LINE_AA)
    return image


def _draw_person(layers: Layers, person_id: int, person: Dict, rng: np.random.Generator,
                 cfg: SyntheticCocoConfig) -> None:
    """Draw one person back to front: legs, torso, neck, head, arms, face, joint markers."""
    kpts, widths, height = person['keypoints'], person['limb_widths'], person['height']
    skin = np.clip(_SKIN_TONES[rng.integers(len(_SKIN_TONES))] + rng.uniform(-12, 12, size=3), 0, 255)
    shirt, trousers = rng.uniform(20.0, 235.0, size=(2, 3))
    sleeve = shirt if rng.random() < 0.5 else skin
    hair = rng.uniform(10.0, 90.0, size=3)
    head_colour = hair if person['back_facing'] else skin

    for limb in (2, 3):  # legs
        for seg in (0, 1):
            _line(layers, person_id, trousers, kpts[_LIMB_KPTS[limb, seg]], kpts[_LIMB_KPTS[limb, seg + 1]],
                  widths[limb, seg])
    _polygon(layers, person_id, shirt, kpts[[5, 6, 12, 11]], person['torso_width'])
    _line(layers, person_id, skin, kpts[[5, 6]].mean(0), person['head'], 0.05 * height)
    _disc(layers, person_id, head_colour, person['head'], person['head_radius'])
    for limb in (0, 1):  # arms
        _line(layers, person_id, shirt, kpts[_LIMB_KPTS[limb, 0]], kpts[_LIMB_KPTS[limb, 1]], widths[limb, 0])
        _line(layers, person_id, sleeve, kpts[_LIMB_KPTS[limb, 1]], kpts[_LIMB_KPTS[limb, 2]], widths[limb, 1])

    radius = cfg.marker_radius * height
    drawn = np.ones(NUM_KEYPOINTS, dtype=bool)
    if person['back_facing']:
        drawn[:3] = False  # nose and eyes are behind the head
    elif radius == 0.0:  # without markers, still draw a face: eyes and nose
        for k in range(3):
            _disc(layers, person_id, np.array([30.0, 30.0, 30.0]), kpts[k], 0.12 * person['head_radius'])
    if radius == 0.0:
        return
    colours = _TYPE_COLOURS[_JOINT_TYPE]
    if cfg.side_colours:
        colours = np.where(_IS_RIGHT[:, None], colours * 0.45, colours)
    radii = np.where(np.isin(np.arange(NUM_KEYPOINTS), _FACE), 0.55 * radius, radius)
    order = np.flatnonzero(drawn)
    dots = None
    if cfg.with_3d:
        dots, radii = _depth_cue(radii, person['depth'], person['root_depth'], cfg.depth_shading)
        order = order[np.argsort(-person['depth'][order], kind='stable')]  # farther markers first
    outline = np.zeros(3)
    for k in order:
        _disc(layers, person_id, outline, kpts[k], radii[k] + 1.0)
        _disc(layers, person_id, colours[k], kpts[k], radii[k])
        if dots is not None:
            _disc(layers, person_id, np.full(3, dots[k]), kpts[k], _DEPTH_DOT * radii[k])


def _depth_cue(radii: np.ndarray, depth: np.ndarray, root_depth: float,
               shading: float) -> Tuple[np.ndarray, np.ndarray]:
    """The synthetic monocular depth cue on the joint markers (module docstring).

    Args:
        radii (np.ndarray): (K,) marker radii in pixels of a joint at the root's depth.
        depth (np.ndarray): (K,) root-relative depths ``Z_j - Z_root`` in mm (negative = nearer).
        root_depth (float): ``Z_root`` in mm.
        shading (float): ``depth_shading`` in [0, 1].

    Returns:
        tuple: grey levels (K,) of the centre dots, ``127.5 * (1 + shading * tanh(-depth / 300 mm))``; radii
        (K,) times ``Z_root / Z_j``.
    """
    greys = 127.5 * (1.0 + shading * np.tanh(-depth / _SHADING_SCALE_MM))
    return greys, radii * root_depth / (root_depth + depth)


def _draw_occluder(rng: np.random.Generator, image: np.ndarray, owner: np.ndarray, person: Dict,
                   cfg: SyntheticCocoConfig) -> None:
    """Cover the area around one in-image joint of ``person`` with a textured ellipse or rotated rectangle."""
    height, width = owner.shape
    inside = np.flatnonzero(_in_image(person['keypoints'], cfg.image_size))
    centre = person['keypoints'][rng.choice(inside)] + rng.normal(0.0, 0.05 * person['height'], size=2)
    size = rng.uniform(*cfg.occluder_size, size=2) * person['height']
    angle = float(rng.uniform(0.0, 180.0))
    shape = np.zeros((height, width), dtype=np.uint8)
    if rng.random() < 0.5:
        cv2.ellipse(shape, tuple(_fixed(centre).tolist()), tuple(_fixed(size / 2.0).tolist()), angle, 0.0, 360.0,
                    1, -1, cv2.LINE_8, _SHIFT)
    else:
        corners = cv2.boxPoints(((float(centre[0]), float(centre[1])), (float(size[0]), float(size[1])), angle))
        cv2.fillPoly(shape, [_fixed(corners).reshape(-1, 1, 2)], 1, cv2.LINE_8, _SHIFT)
    phase = rng.uniform(0.0, np.pi)
    frequency = 2.0 * np.pi / rng.uniform(4.0, 16.0)
    covered = shape.astype(bool)
    ys, xs = np.nonzero(covered)
    stripes = np.sin((xs * np.cos(phase) + ys * np.sin(phase)) * frequency)
    texture = rng.uniform(0.0, 255.0, size=3) + stripes[:, None] * rng.uniform(0.0, 60.0)
    image[ys, xs] = np.clip(texture, 0, 255).astype(np.uint8)
    owner[covered] = _OCCLUDER_ID


# ----------------------------------------------------------------------------------------------------------
# annotations


def _annotation(person: Dict, person_id: int, owner: np.ndarray, mask: np.ndarray,
                cfg: SyntheticCocoConfig) -> Dict:
    """COCO fields of one drawn person (everything but ``id``/``image_id``/``category_id``)."""
    width, height = cfg.image_size
    kpts = person['keypoints']
    inside = _in_image(kpts, cfg.image_size)
    pixels = np.round(np.clip(kpts, 0.0, np.array([width - 1.0, height - 1.0]))).astype(np.int64)
    on_top = owner[pixels[:, 1], pixels[:, 0]] == person_id
    visibility = np.where(inside, np.where(on_top, 2, 1), 0)
    if person['back_facing']:
        visibility[:3] = np.minimum(visibility[:3], 1)
    labelled = visibility > 0

    ys, xs = np.nonzero(mask)
    low, high = kpts[labelled].min(0), kpts[labelled].max(0)  # at least min_keypoints_in_image >= 1 of them
    if len(xs):
        low = np.minimum(low, np.array([xs.min(), ys.min()], dtype=np.float64))
        high = np.maximum(high, np.array([xs.max(), ys.max()], dtype=np.float64) + 1.0)
    # whole-pixel corners, so that x + w is exact and holds every (2-decimal) keypoint
    low = np.maximum(np.floor(low), 0.0)
    high = np.minimum(np.ceil(high), np.array([width, height], dtype=np.float64))
    bbox = [float(v) for v in (low[0], low[1], high[0] - low[0], high[1] - low[1])]

    visible = (owner == person_id).astype(np.uint8)
    area = float(np.count_nonzero(visible))
    contours, _ = cv2.findContours(visible, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = [cv2.approxPolyDP(c, 1.0, True).reshape(-1).astype(float).tolist() for c in contours]
    polygons = [p for p in polygons if len(p) >= 6]
    if not polygons or area == 0.0:  # hidden entirely: fall back to the box (never happens by default)
        x, y, w, h = bbox
        polygons = [[x, y, x + w, y, x + w, y + h, x, y + h]]
        area = max(area, 0.5 * w * h)

    keypoints = np.concatenate([np.where(labelled[:, None], np.round(kpts, 2), 0.0), visibility[:, None]], 1)
    fields = dict(keypoints=_json_numbers(keypoints), num_keypoints=int(np.count_nonzero(labelled)), bbox=bbox,
                  area=area, iscrowd=0, segmentation=polygons)
    if cfg.with_3d:
        fields['keypoints_3d'] = _json_numbers(np.round(_camera_points(person, cfg), 4))
    return fields


def _json_numbers(values: np.ndarray) -> List[Union[int, float]]:
    """Flatten to a list of JSON numbers, integral values written as ints."""
    return [int(v) if v == int(v) else float(v) for v in values.reshape(-1).tolist()]


def _camera_points(person: Dict, cfg: SyntheticCocoConfig) -> np.ndarray:
    """Back-project a lifted person's unrounded image keypoints at their depths: -> (K, 3) X, Y, Z in mm."""
    focal, centre = _camera(cfg)
    z = person['root_depth'] + person['depth']
    return np.concatenate([(person['keypoints'] - centre) * z[:, None] / focal, z[:, None]], axis=1)


def render_synthetic_image(rng: np.random.Generator,
                           cfg: Optional[SyntheticCocoConfig] = None) -> Tuple[np.ndarray, List[Dict]]:
    """Render one image of people and their COCO annotations.

    Note:
        K keypoints (17, COCO order), P people in the image (``people_per_image``, at least 1).

    Args:
        rng (np.random.Generator): The only source of randomness; the same state gives the same output.
        cfg (SyntheticCocoConfig, optional): Generation options; defaults to ``SyntheticCocoConfig()``.

    Returns:
        tuple:
        - image (np.ndarray): (H, W, 3) uint8 BGR, as ``cv2.imwrite`` expects.
        - annotations (list[dict]): P dicts with the COCO fields ``keypoints`` (K * 3 flat list),
          ``num_keypoints``, ``bbox`` (xywh), ``area``, ``iscrowd`` and ``segmentation``, and with ``with_3d``
          ``keypoints_3d`` (K * 3 flat list, camera X, Y, Z in mm); the caller adds ``id``, ``image_id`` and
          ``category_id``.
    """
    cfg = SyntheticCocoConfig() if cfg is None else cfg
    width, height = cfg.image_size
    image = _background(rng, cfg)
    owner = np.zeros((height, width), dtype=np.uint8)

    people: List[Dict] = []
    wanted = int(rng.integers(cfg.people_per_image[0], cfg.people_per_image[1] + 1))
    for _ in range(_FIRST_PERSON_ROUNDS + wanted):
        if len(people) >= wanted:
            break
        person = _place_person(rng, cfg, np.array([p['box'] for p in people]).reshape(-1, 4))
        if person is not None:
            people.append(person)
        elif people:  # this person did not fit next to the others: keep the ones already placed
            wanted -= 1
    if not people:
        raise ValueError(f'render_synthetic_image: no person could be placed in {_FIRST_PERSON_ROUNDS} x '
                         f'{cfg.placement_tries} tries; check image_size={cfg.image_size!r}, '
                         f'person_height={cfg.person_height!r} and min_keypoints_in_image='
                         f'{cfg.min_keypoints_in_image!r}')
    # farther people first (2D: smaller ones), so that nearer ones occlude them
    people.sort(key=(lambda p: -p['root_depth']) if cfg.with_3d else (lambda p: p['height']))

    masks = []
    for index, person in enumerate(people):
        mask = np.zeros((height, width), dtype=np.uint8)
        _draw_person((image, owner, mask), index + 1, person, rng, cfg)
        masks.append(mask)
    for person in people:
        if rng.random() < cfg.occlusion_prob:
            _draw_occluder(rng, image, owner, person, cfg)
    if cfg.noise_std > 0:
        noise = rng.standard_normal(size=image.shape, dtype=np.float32) * np.float32(cfg.noise_std)
        noisy = image.astype(np.float32) + noise
        image = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    annotations = [_annotation(p, i + 1, owner, m, cfg) for i, (p, m) in enumerate(zip(people, masks))]
    return image, annotations


def _degenerate_annotation(kind: str, rng: np.random.Generator, cfg: SyntheticCocoConfig) -> Dict:
    """A COCO annotation that mmpose's top-down loader must skip (``num_keypoints == 0``)."""
    width, height = cfg.image_size
    x, y = float(round(rng.uniform(0, width - 1), 2)), float(round(rng.uniform(0, height - 1), 2))
    if kind == 'zero_area':
        w = h = 0.0
    else:  # 'no_keypoints'
        w = float(round(rng.uniform(0.1, 0.5) * (width - x), 2))
        h = float(round(rng.uniform(0.1, 0.5) * (height - y), 2))
    fields = dict(keypoints=[0] * (3 * NUM_KEYPOINTS), num_keypoints=0, bbox=[x, y, w, h],
                  area=float(round(0.5 * w * h, 2)), iscrowd=0,
                  segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]])
    if cfg.with_3d:
        fields['keypoints_3d'] = [0] * (3 * NUM_KEYPOINTS)
    return fields


def _image_rng(seed: int, split_index: int, image_index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(split_index, image_index)))


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, separators=(',', ':')))


def _config_record(cfg: SyntheticCocoConfig) -> Dict:
    """The config as written to ``info.config``: the 3D knobs only with ``with_3d`` (byte-identical 2D files)."""
    record = dataclasses.asdict(cfg)
    if not cfg.with_3d:
        for name in _3D_FIELDS:
            del record[name]
    return record


def make_synthetic_coco(out_dir: Union[str, Path], *, num_train_images: int, num_val_images: int, seed: int,
                        config: Optional[SyntheticCocoConfig] = None) -> Dict[str, str]:
    """Write a synthetic COCO person-keypoints dataset under ``out_dir`` (layout in the module docstring).

    Files that exist already are overwritten; other files in ``out_dir`` are left alone.

    Args:
        out_dir (str | Path): Dataset root, used as ``data_root`` in an mmpose COCO config.
        num_train_images (int): Images in ``train2017``.
        num_val_images (int): Images in ``val2017``.
        seed (int): Non-negative seed; the same seed and config give byte-identical files.
        config (SyntheticCocoConfig, optional): Generation options; defaults to ``SyntheticCocoConfig()``.

    Returns:
        dict[str, str]: Absolute paths ``data_root``, ``train_ann_file``, ``val_ann_file``, ``train_img_dir``,
        ``val_img_dir`` and ``val_bbox_file``.
    """
    cfg = SyntheticCocoConfig() if config is None else config
    for name, value in (('num_train_images', num_train_images), ('num_val_images', num_val_images),
                        ('seed', seed)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f'make_synthetic_coco: {name} must be a non-negative int, got {value!r}')
    root = Path(out_dir).resolve()
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    (root / 'person_detection_results').mkdir(parents=True, exist_ok=True)
    width, height = cfg.image_size
    focal, centre = _camera(cfg)
    camera = dict(camera_param=dict(f=focal.tolist(), c=centre.tolist())) if cfg.with_3d else {}
    bbox_file = root / 'person_detection_results' / 'val_gt_boxes.json'
    paths = dict(data_root=str(root), val_bbox_file=str(bbox_file))

    for split_index, (split, count) in enumerate(zip(SPLITS, (num_train_images, num_val_images))):
        image_dir = root / f'{split}2017'
        image_dir.mkdir(exist_ok=True)
        images: List[Dict] = []
        annotations: List[Dict] = []
        for index in range(int(count)):
            image, people = render_synthetic_image(_image_rng(int(seed), split_index, index), cfg)
            image_id = index + 1
            file_name = f'{image_id:012d}.jpg'
            if not cv2.imwrite(str(image_dir / file_name), image, [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality]):
                raise OSError(f'make_synthetic_coco: could not write {image_dir / file_name}')
            images.append(dict(id=image_id, file_name=file_name, width=width, height=height, **camera))
            first_id = len(annotations) + 1
            annotations.extend(dict(id=first_id + i, image_id=image_id, category_id=1, **person)
                               for i, person in enumerate(people))
        if count and cfg.num_degenerate_annotations:
            rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(len(SPLITS) + split_index,)))
            for j in range(cfg.num_degenerate_annotations):
                fields = _degenerate_annotation(DEGENERATE_KINDS[j % len(DEGENERATE_KINDS)], rng, cfg)
                annotations.append(dict(id=len(annotations) + 1, image_id=images[j % len(images)]['id'],
                                        category_id=1, **fields))
        ann_file = f'annotations/person_keypoints_{split}2017.json'
        info = dict(description='pose_plugins synthetic people (pose_plugins.datasets.synthetic)', split=split,
                    seed=int(seed), config=_config_record(cfg))
        _write_json(root / ann_file, dict(info=info, licenses=[], images=images, annotations=annotations,
                                          categories=[COCO_PERSON_CATEGORY]))
        paths[f'{split}_ann_file'] = str(root / ann_file)
        paths[f'{split}_img_dir'] = str(image_dir)
        if split == 'val':
            boxes = [dict(bbox=a['bbox'], category_id=1, image_id=a['image_id'], score=1.0) for a in annotations
                     if a['num_keypoints'] > 0 and a['bbox'][2] > 0 and a['bbox'][3] > 0]
            _write_json(bbox_file, boxes)
    return paths
