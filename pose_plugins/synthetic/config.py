"""Generation options of the synthetic people (:class:`SyntheticCocoConfig`), validated on construction."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

from .body_model import MAX_ROOT_DEPTH_MM, MIN_ROOT_DISTANCE
from .coco_format import NUM_KEYPOINTS
from .drawing import OCCLUDER_ID

__all__ = ['SyntheticCocoConfig', 'FIELDS_3D']

# Fields that matter only with with_3d=True; written to info.config only then.
FIELDS_3D: Tuple[str, ...] = ('with_3d', 'focal_length', 'person_height_mm', 'depth_shading')


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
        image_size (tuple[int, int]): Image ``(width, height)`` in pixels.
        people_per_image (tuple[int, int]): Inclusive ``(min, max)`` people tried per image (at least one placed).
        person_height (tuple[float, float]): ``(min, max)`` upright height in pixels, head top to ankles.
        aspect_range (tuple[float, float]): ``(min, max)`` factor on shoulder/hip width and limb thickness.
        rotation_range (float): Maximum absolute in-plane rotation of a person in degrees.
        limb_angle_scale (float): Factor on every pose angle range (limbs, lean, head); 0 gives the rest pose.
        foreshortening (float): Each limb segment's length is scaled by ``U(1 - foreshortening, 1)``.
        truncation_prob (float): Probability that a person may be placed partly outside the image.
        min_keypoints_in_image (int): A placement is rejected unless this many keypoints lie in the image.
        max_overlap (float): Maximum IoU between the boxes of two people of an image.
        placement_tries (int): Random placements tried per person before dropping them.
        occlusion_prob (float): Probability that a person gets an occluder over one of their joints.
        occluder_size (tuple[float, float]): ``(min, max)`` occluder size as a fraction of the person height.
        back_facing_prob (float): Probability that a person is seen from behind.
        marker_radius (float): Joint-marker radius as a fraction of the person height; 0 draws no markers.
        side_colours (bool): Darker right-side markers. Breaks flip consistency: no flip augmentation.
        background_shapes (tuple[int, int]): ``(min, max)`` number of random shapes on the background.
        noise_std (float): Standard deviation of the Gaussian pixel noise, in grey levels.
        jpeg_quality (int): JPEG quality of the written images (fixed, for determinism).
        num_degenerate_annotations (int): Degenerate annotations appended to each split.
        with_3d (bool): Also write ``keypoints_3d``, ``camera_param`` and the depth cue; needs ``marker_radius > 0``.
        focal_length (float): 3D only. Focal length in image widths (``fx = fy``).
        person_height_mm (tuple[float, float]): 3D only. ``(min, max)`` real size in mm of ``person_height``.
        depth_shading (float): 3D only. In [0, 1], contrast of the markers' grey depth dots; 0: radius cue only.
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
        _check_range('people_per_image', self.people_per_image, 1, OCCLUDER_ID - 1)
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
        if nearest < MIN_ROOT_DISTANCE * MAX_ROOT_DEPTH_MM:
            raise ValueError(
                f'SyntheticCocoConfig: with focal_length={self.focal_length!r}, image_size={self.image_size!r}, '
                f'person_height_mm={self.person_height_mm!r} and person_height={self.person_height!r} the nearest '
                f'person would stand {nearest:.0f} mm from the camera; it must be >= '
                f'{MIN_ROOT_DISTANCE * MAX_ROOT_DEPTH_MM:.0f} mm (raise focal_length or person_height_mm, or '
                f'lower the maximum person_height)')
