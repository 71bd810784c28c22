"""Short synthetic clips of people walking, turning, crossing and occluding each other, drawn like the still images
(same background, people, markers, occluders and noise), with ground-truth tracks and stand-in detections."""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import cv2
import numpy as np

from .annotations import person_annotation
from .body_model import LIMB_LENGTHS
from .coco_format import COCO_KEYPOINT_NAMES, COCO_SKELETON, NUM_KEYPOINTS
from .config import SyntheticCocoConfig
from .drawing import OCCLUDER_ID, draw_background, draw_occluder, draw_person
from .geometry import in_image
from .people2d import pose_in_image, sample_skeleton

__all__ = ['SyntheticClipConfig', 'make_synthetic_clip', 'VIDEO_FOURCC', 'MIN_VISIBLE_FOR_DETECTION']

#: Video container (suffix) -> cv2.VideoWriter fourcc.
VIDEO_FOURCC: Dict[str, str] = {'.mp4': 'mp4v', '.avi': 'MJPG'}
#: A listed person is in the detections file when at least this many keypoints are visible (2).
MIN_VISIBLE_FOR_DETECTION = 3
_LEG = float(LIMB_LENGTHS[2].sum())  # rest pelvis-to-ankle length, person heights
# Gait, sample_skeleton's limb_angles layout (limb: left arm, right arm, left leg, right leg; segment): rest angles in
# degrees, and each segment's share of `swing` (a segment's direction, the sum over its chain, swings <= 1 x swing).
_GAIT_REST = np.array([[12.0, 10.0], [12.0, 10.0], [5.0, 0.0], [5.0, 0.0]])
_GAIT_SHARE = np.array([[0.6, 0.4], [0.6, 0.4], [0.6, -0.3], [0.6, -0.3]])
_GAIT_SIGN = np.array([-1.0, 1.0, 1.0, -1.0])  # legs in antiphase, each arm against its leg
# Stream keys under the clip's seed: SeedSequence(seed, spawn_key=(key, index)).
_BACKGROUND, _SCENE, _SKELETON, _APPEARANCE, _OCCLUDER, _NOISE = range(6)


def _check(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(f'SyntheticClipConfig.{name} must be {expected}, got {value!r}')


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SyntheticClipConfig:
    """Options of :func:`make_synthetic_clip` (frozen; ``dataclasses.replace`` makes variants).

    Args:
        num_frames (int): Frames of the clip, >= 2.
        fps (float): Frame rate; times are ``frame / fps`` seconds.
        num_people (int): People (tracks) of the clip; each is in the image at mid-clip.
        speed (tuple[float, float]): ``(min, max)`` walking speed in person heights per second.
        stride (float): Person heights walked per gait cycle (two steps); the limbs swing once per cycle.
        swing (float): Degrees; amplitude of the limb swing (no segment's direction swings more).
        tilt (float): Maximum forward lean into the walking direction, in degrees (drawn once per person).
        turn_prob (float): Probability that a person turns around once: walks back, seen from the other side.
        crossing (bool): People 1 and 2 walk towards each other and cross mid-clip (needs ``num_people >= 2``).
        occluder_prob (float): Probability that a still occluder stands on a person's path.
        people (SyntheticCocoConfig): How people are drawn; the clip uses ``image_size``, ``person_height``
            (nearer = taller = lower in the image), ``aspect_range``, ``foreshortening``, ``limb_angle_scale``
            (lean and head only), ``back_facing_prob`` (facing at frame 0), ``min_keypoints_in_image`` (where an
            occluder may stand), ``occluder_size``, ``marker_radius``, ``side_colours``, ``background_shapes``
            and ``noise_std``. Default: the README demo's training options.
    """

    num_frames: int = 48
    fps: float = 25.0
    num_people: int = 3
    speed: Tuple[float, float] = (0.3, 0.8)
    stride: float = 0.8
    swing: float = 25.0
    tilt: float = 8.0
    turn_prob: float = 0.3
    crossing: bool = True
    occluder_prob: float = 0.25
    people: SyntheticCocoConfig = field(default_factory=SyntheticCocoConfig)

    def __post_init__(self) -> None:
        _check(_is_int(self.num_frames) and self.num_frames >= 2, 'num_frames', 'an int >= 2', self.num_frames)
        _check(isinstance(self.fps, (int, float)) and 0 < self.fps <= 1000, 'fps', 'in (0, 1000]', self.fps)
        _check(_is_int(self.num_people) and 1 <= self.num_people < OCCLUDER_ID, 'num_people',
               f'an int in [1, {OCCLUDER_ID - 1}]', self.num_people)
        _check(len(self.speed) == 2 and 0.0 <= self.speed[0] <= self.speed[1] <= 10.0, 'speed',
               '(min, max) person heights per second with 0 <= min <= max <= 10', self.speed)
        _check(0.05 <= self.stride <= 10.0, 'stride', 'in [0.05, 10] person heights', self.stride)
        _check(0.0 <= self.swing <= 45.0, 'swing', 'in [0, 45] degrees', self.swing)
        _check(0.0 <= self.tilt <= 45.0, 'tilt', 'in [0, 45] degrees', self.tilt)
        for name in ('turn_prob', 'occluder_prob'):
            _check(0.0 <= getattr(self, name) <= 1.0, name, 'a probability in [0, 1]', getattr(self, name))
        _check(isinstance(self.crossing, bool), 'crossing', 'a bool', self.crossing)
        if self.crossing and self.num_people < 2:
            raise ValueError(f'SyntheticClipConfig.crossing=True needs num_people >= 2, got num_people='
                             f'{self.num_people!r}')
        _check(isinstance(self.people, SyntheticCocoConfig), 'people', 'a SyntheticCocoConfig', self.people)
        _check(not self.people.with_3d, 'people.with_3d', 'False (clips are 2D)', self.people.with_3d)

    @property
    def image_size(self) -> Tuple[int, int]:
        """``(width, height)`` of the frames: ``people.image_size``."""
        return self.people.image_size


@dataclass(frozen=True)
class _Walker:
    """One person's path; positions in pixels, times in seconds."""

    index: int
    height: float
    pelvis_y: float
    x_ref: float  # pelvis x at t_ref
    t_ref: float
    speed: float  # pixels per second
    direction: float  # +1 walks to +x at t = 0
    turn_time: float  # math.inf: never turns
    phase: float  # gait phase at t = 0, radians
    tilt: float  # radians, into the walking direction
    back_facing: bool  # at t = 0

    def _offset(self, t: float) -> float:
        return self.direction * self.speed * (min(t, self.turn_time) - max(t - self.turn_time, 0.0))

    def at(self, t: float, seed: int, cfg: SyntheticClipConfig) -> Dict:
        """The person at time ``t`` (:func:`pose_in_image`'s dict, placed): the same skeleton draws every frame."""
        turned = t >= self.turn_time
        direction = -self.direction if turned else self.direction
        phase = self.phase + 2.0 * math.pi * self.speed * t / (cfg.stride * self.height)
        angles = _GAIT_REST + cfg.swing * _GAIT_SHARE * (_GAIT_SIGN * math.sin(phase))[:, None]
        pose = sample_skeleton(_stream(seed, _SKELETON, self.index), cfg.people, limb_angles=angles)
        person = pose_in_image(pose, self.height, direction * self.tilt, self.back_facing != turned)
        offset = np.array([self.x_ref + self._offset(t) - self._offset(self.t_ref), self.pelvis_y])
        person.update(keypoints=person['keypoints'] + offset, head=person['head'] + offset,
                      box=person['box'] + np.tile(offset, 2))
        return person


def _stream(seed: int, key: int, index: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, index)))


def _walkers(seed: int, cfg: SyntheticClipConfig) -> List[_Walker]:
    """Sizes, depths and paths: each person at a random x at mid-clip (people 1 and 2 at their crossing)."""
    rng = _stream(seed, _SCENE)
    n, (width, height) = cfg.num_people, cfg.image_size
    duration = (cfg.num_frames - 1) / cfg.fps
    low, high = cfg.people.person_height
    heights = rng.uniform(low, high, size=n)
    depth = (heights - low) / (high - low) if high > low else np.full(n, 0.5)
    feet = height * (0.55 + 0.4 * depth + rng.uniform(-0.03, 0.03, size=n))
    feet = np.clip(feet, np.minimum(0.96 * heights, 0.98 * height), 0.98 * height)
    speeds = rng.uniform(*cfg.speed, size=n) * heights
    directions = rng.choice([-1.0, 1.0], size=n)
    turn_times = np.where(rng.random(n) < cfg.turn_prob, rng.uniform(0.25, 0.75, size=n) * duration, math.inf)
    x_ref = rng.uniform(0.1, 0.9, size=n) * width
    t_ref = np.full(n, duration / 2.0)
    phases = rng.uniform(0.0, 2.0 * math.pi, size=n)
    tilts = np.deg2rad(rng.uniform(0.0, cfg.tilt, size=n))
    back_facing = rng.random(n) < cfg.people.back_facing_prob
    if cfg.crossing:  # opposite ways through one point; a turn only late enough to keep the x-order swapped
        t_cross = rng.uniform(0.3, 0.7) * duration
        x_ref[:2], t_ref[:2] = rng.uniform(0.3, 0.7) * width, t_cross
        directions[1] = -directions[0]
        turn_times[:2] = np.where(np.isinf(turn_times[:2]), math.inf,
                                  rng.uniform((t_cross + duration) / 2.0, duration, size=2))
    return [_Walker(index=i, height=float(heights[i]), pelvis_y=float(feet[i] - _LEG * heights[i]),
                    x_ref=float(x_ref[i]), t_ref=float(t_ref[i]), speed=float(speeds[i]),
                    direction=float(directions[i]), turn_time=float(turn_times[i]), phase=float(phases[i]),
                    tilt=float(tilts[i]), back_facing=bool(back_facing[i])) for i in range(n)]


def _occluders(seed: int, cfg: SyntheticClipConfig, people: List[List[Dict]]) -> List[Tuple[int, Dict]]:
    """(person index, the person at a random frame with ``min_keypoints_in_image`` in the image) per still occluder:
    :func:`draw_occluder` on that snapshot with the person's occluder stream, re-seeded each frame."""
    rng = _stream(seed, _SCENE, 1)
    occluders = []
    for index in range(cfg.num_people):
        if rng.random() >= cfg.occluder_prob:
            continue
        frames = [f for f, frame in enumerate(people) if np.count_nonzero(
            in_image(frame[index]['keypoints'], cfg.image_size)) >= cfg.people.min_keypoints_in_image]
        if frames:
            occluders.append((index, people[int(rng.choice(frames))][index]))
    return occluders


def _render_frame(background: np.ndarray, people: List[Dict], occluders: List[Tuple[int, Dict]], seed: int,
                  frame: int, cfg: SyntheticClipConfig) -> Tuple[np.ndarray, List[Dict]]:
    """One frame (H, W, 3) uint8 BGR and its ground truth: people farther (smaller) first, occluders, noise."""
    width, height = cfg.image_size
    image, owner = background.copy(), np.zeros((height, width), dtype=np.uint8)
    order = sorted(range(len(people)), key=lambda i: people[i]['height'])
    masks = {}
    for draw_id, index in enumerate(order, start=1):
        masks[index] = np.zeros((height, width), dtype=np.uint8)
        draw_person((image, owner, masks[index]), draw_id, people[index], _stream(seed, _APPEARANCE, index),
                    cfg.people)
    for index, snapshot in occluders:
        draw_occluder(_stream(seed, _OCCLUDER, index), image, owner, snapshot, cfg.people)
    if cfg.people.noise_std > 0:
        noise = _stream(seed, _NOISE, frame).standard_normal(size=image.shape, dtype=np.float32)
        image = np.clip(np.round(image.astype(np.float32) + noise * np.float32(cfg.people.noise_std)), 0, 255)
        image = image.astype(np.uint8)
    truth = []
    for draw_id, index in enumerate(order, start=1):
        person = people[index]
        box = person['box']
        if box[2] <= 0 or box[3] <= 0 or box[0] >= width or box[1] >= height:
            continue  # wholly outside the frame
        visibility = np.zeros(NUM_KEYPOINTS, dtype=np.int64)
        if in_image(person['keypoints'], cfg.image_size).any():
            fields = person_annotation(person, draw_id, owner, masks[index], cfg.people)
            visibility = np.asarray(fields['keypoints'][2::3], dtype=np.int64)
        truth.append(dict(track_id=index + 1, bbox=np.round(box, 2).tolist(),
                          keypoints=np.round(person['keypoints'], 2).tolist(), visibility=visibility.tolist(),
                          back_facing=bool(person['back_facing'])))
    truth.sort(key=lambda p: p['track_id'])
    return image, truth


def _sidecars(out_video: Union[str, Path]) -> Tuple[Path, Path, Path]:
    video = Path(out_video)
    if video.suffix.lower() not in VIDEO_FOURCC:
        raise ValueError(f'make_synthetic_clip: out_video must end in {" or ".join(VIDEO_FOURCC)}, got {str(video)!r}')
    paths = (video, video.with_name(video.stem + '_tracks.json'), video.with_name(video.stem + '_detections.jsonl'))
    for path in paths:
        if path.exists():
            raise FileExistsError(f'make_synthetic_clip: {path} already exists; refusing to overwrite it')
    return paths


def make_synthetic_clip(out_video: Union[str, Path], *, cfg: Optional[SyntheticClipConfig] = None,
                        seed: int = 0) -> Dict[str, Union[str, int]]:
    """Write a clip and its ground truth beside it; refuses (FileExistsError) if any of the three files exists.

    Files: ``out_video`` (.mp4: fourcc mp4v; .avi: MJPG); ``STEM_tracks.json``: ``fps``, ``width``, ``height``,
    ``num_frames``, ``keypoint_names`` (K = 17, COCO order), ``skeleton`` (0-based pairs), ``frames``: per frame
    ``{"frame", "people": [{"track_id" (1-based), "bbox" [x1, y1, x2, y2] amodal px (may pass the image edge),
    "keypoints" (K, 2) px (also outside the image), "visibility" (K,) 2 visible / 1 covered / 0 outside,
    "back_facing"}]}`` (a person whose box misses the image is not listed), ``seed``, ``config``;
    ``STEM_detections.jsonl``: per frame ``{"frame", "boxes": [[x1, y1, x2, y2, 1.0], ...]}``, the listed people
    with :data:`MIN_VISIBLE_FOR_DETECTION` visible keypoints, in track order.

    Args:
        out_video (str | Path): Video path ending in ``.mp4`` or ``.avi``; missing folders are made.
        cfg (SyntheticClipConfig, optional): Defaults to ``SyntheticClipConfig()``.
        seed (int): Non-negative; the same seed and config give identical ground truth (and frames).

    Returns:
        dict: ``video``, ``tracks``, ``detections`` (absolute paths), ``num_frames``, ``num_tracks``,
        ``num_instances`` (listed people over all frames), ``num_detections``.
    """
    cfg = SyntheticClipConfig() if cfg is None else cfg
    if not _is_int(seed) or seed < 0:
        raise ValueError(f'make_synthetic_clip: seed must be a non-negative int, got {seed!r}')
    seed = int(seed)
    video_path, tracks_path, detections_path = (p.resolve() for p in _sidecars(out_video))
    walkers = _walkers(seed, cfg)
    people = [[w.at(f / cfg.fps, seed, cfg) for w in walkers] for f in range(cfg.num_frames)]
    occluders = _occluders(seed, cfg, people)
    background = draw_background(_stream(seed, _BACKGROUND), cfg.people)

    video_path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC[video_path.suffix.lower()]),
                             float(cfg.fps), cfg.image_size)
    written: List[Path] = [video_path]
    try:
        if not writer.isOpened():
            raise OSError(f'make_synthetic_clip: cv2.VideoWriter cannot write {video_path}')
        frames, detections = [], []
        for index, frame_people in enumerate(people):
            image, truth = _render_frame(background, frame_people, occluders, seed, index, cfg)
            writer.write(image)
            frames.append(dict(frame=index, people=truth))
            boxes = [p['bbox'] + [1.0] for p in truth
                     if sum(v == 2 for v in p['visibility']) >= MIN_VISIBLE_FOR_DETECTION]
            detections.append(dict(frame=index, boxes=boxes))
        writer.release()
        width, height = cfg.image_size
        tracks = dict(fps=float(cfg.fps), width=width, height=height, num_frames=cfg.num_frames,
                      keypoint_names=list(COCO_KEYPOINT_NAMES),
                      skeleton=[[i - 1, j - 1] for i, j in COCO_SKELETON], frames=frames, seed=seed,
                      config=dataclasses.asdict(cfg))
        for path, text in ((tracks_path, json.dumps(tracks, separators=(',', ':'))),
                           (detections_path, ''.join(json.dumps(d, separators=(',', ':')) + '\n' for d in detections))):
            with open(path, 'x') as f:
                written.append(path)
                f.write(text)
    except BaseException:
        writer.release()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return dict(video=str(video_path), tracks=str(tracks_path), detections=str(detections_path),
                num_frames=cfg.num_frames, num_tracks=cfg.num_people,
                num_instances=sum(len(f['people']) for f in frames),
                num_detections=sum(len(d['boxes']) for d in detections))
