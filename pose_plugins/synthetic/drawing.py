"""cv2 drawing of the background, people (with joint markers and the 3D depth cue) and occluders."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Tuple

import cv2
import numpy as np

from .body_model import FACE, LIMB_KPTS
from .coco_format import NUM_KEYPOINTS
from .geometry import in_image

if TYPE_CHECKING:
    from .config import SyntheticCocoConfig

__all__ = ['Layers', 'OCCLUDER_ID', 'KEYPOINT_JOINT_TYPES', 'JOINT_TYPE_COLOURS', 'draw_background', 'draw_person',
           'depth_cue', 'draw_occluder']

# Joint type of each keypoint and one BGR marker colour per type; left and right share a type (flip-consistent).
KEYPOINT_JOINT_TYPES = np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8])
JOINT_TYPE_COLOURS = np.array([
    (40, 40, 230), (40, 230, 230), (230, 40, 230), (40, 210, 40), (230, 120, 20), (20, 140, 255),
    (230, 230, 40), (150, 40, 230), (250, 250, 250)], dtype=np.float64)
_IS_RIGHT = np.array([k > 0 and k % 2 == 0 for k in range(NUM_KEYPOINTS)])
_SKIN_TONES = np.array([(60, 80, 120), (80, 110, 160), (100, 140, 200), (140, 180, 230), (170, 205, 240)],
                       dtype=np.float64)
# Depth cue (3D): centre-dot radius as a fraction of the marker's, and the depth scale of its grey level.
_DEPTH_DOT, _SHADING_SCALE_MM = 0.6, 300.0
_SHIFT = 4  # cv2 fixed-point bits: coordinates are drawn with 1/16 px precision
_SCALE = float(1 << _SHIFT)
OCCLUDER_ID = 255
# (image (H, W, 3) uint8, owner map (H, W) uint8: top person id / 255 occluder / 0 background, person mask (H, W))
Layers = Tuple[np.ndarray, np.ndarray, np.ndarray]


def _fixed(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates (..., 2) -> cv2 fixed-point int32 coordinates (``shift=_SHIFT``)."""
    return np.round(np.asarray(points) * _SCALE).astype(np.int32)


def _paint(layers: Layers, person_id: int, colour: np.ndarray,
           draw: Callable[[np.ndarray, object, int], None]) -> None:
    """Run ``draw(canvas, colour, line_type)`` on the image (anti-aliased), owner map (``person_id``) and mask."""
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


def draw_background(rng: np.random.Generator, cfg: SyntheticCocoConfig) -> np.ndarray:
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


def draw_person(layers: Layers, person_id: int, person: Dict, rng: np.random.Generator,
                 cfg: SyntheticCocoConfig) -> None:
    """Draw one person back to front: legs, torso, neck, head, arms, face, joint markers."""
    kpts, widths, height = person['keypoints'], person['limb_widths'], person['height']
    skin = np.clip(_SKIN_TONES[rng.integers(len(_SKIN_TONES))] + rng.uniform(-12, 12, size=3), 0, 255)
    shirt, trousers = rng.uniform(20.0, 235.0, size=(2, 3))
    sleeve = shirt if rng.random() < 0.5 else skin
    hair = rng.uniform(10.0, 90.0, size=3)
    head_colour = hair if person['back_facing'] else skin

    for limb in (2, 3):
        for seg in (0, 1):
            _line(layers, person_id, trousers, kpts[LIMB_KPTS[limb, seg]], kpts[LIMB_KPTS[limb, seg + 1]],
                  widths[limb, seg])
    _polygon(layers, person_id, shirt, kpts[[5, 6, 12, 11]], person['torso_width'])
    _line(layers, person_id, skin, kpts[[5, 6]].mean(0), person['head'], 0.05 * height)
    _disc(layers, person_id, head_colour, person['head'], person['head_radius'])
    for limb in (0, 1):
        _line(layers, person_id, shirt, kpts[LIMB_KPTS[limb, 0]], kpts[LIMB_KPTS[limb, 1]], widths[limb, 0])
        _line(layers, person_id, sleeve, kpts[LIMB_KPTS[limb, 1]], kpts[LIMB_KPTS[limb, 2]], widths[limb, 1])

    radius = cfg.marker_radius * height
    drawn = np.ones(NUM_KEYPOINTS, dtype=bool)
    if person['back_facing']:
        drawn[:3] = False  # nose and eyes are behind the head
    elif radius == 0.0:  # without markers, still draw a face: eyes and nose
        for k in range(3):
            _disc(layers, person_id, np.array([30.0, 30.0, 30.0]), kpts[k], 0.12 * person['head_radius'])
    if radius == 0.0:
        return
    colours = JOINT_TYPE_COLOURS[KEYPOINT_JOINT_TYPES]
    if cfg.side_colours:
        colours = np.where(_IS_RIGHT[:, None], colours * 0.45, colours)
    radii = np.where(np.isin(np.arange(NUM_KEYPOINTS), FACE), 0.55 * radius, radius)
    order = np.flatnonzero(drawn)
    dots = None
    if cfg.with_3d:
        dots, radii = depth_cue(radii, person['depth'], person['root_depth'], cfg.depth_shading)
        order = order[np.argsort(-person['depth'][order], kind='stable')]  # farther markers first
    outline = np.zeros(3)
    for k in order:
        _disc(layers, person_id, outline, kpts[k], radii[k] + 1.0)
        _disc(layers, person_id, colours[k], kpts[k], radii[k])
        if dots is not None:
            _disc(layers, person_id, np.full(3, dots[k]), kpts[k], _DEPTH_DOT * radii[k])


def depth_cue(radii: np.ndarray, depth: np.ndarray, root_depth: float,
               shading: float) -> Tuple[np.ndarray, np.ndarray]:
    """The synthetic monocular depth cue on the joint markers.

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


def draw_occluder(rng: np.random.Generator, image: np.ndarray, owner: np.ndarray, person: Dict,
                   cfg: SyntheticCocoConfig) -> None:
    """Cover the area around one in-image joint of ``person`` with a textured ellipse or rotated rectangle."""
    height, width = owner.shape
    inside = np.flatnonzero(in_image(person['keypoints'], cfg.image_size))
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
    owner[covered] = OCCLUDER_ID
