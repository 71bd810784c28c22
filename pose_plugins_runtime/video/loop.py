"""Pose on a stream of frames: boxes -> one batched pose estimate per frame -> tracks -> One-Euro smoothing ->
drawn video and JSON lines (Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018:
top-down pose per frame, boxes carried from the previous frame's poses, identities matched by pose similarity).

An estimator is any object with ``kind`` (``'2d'``, ``'3d'`` or ``'mesh'``), ``skeleton_links``, and
``__call__(image, boxes) -> dict`` of arrays with one row per box: ``keypoints`` (M, K, D) in image pixels (D = 3:
root-relative depth in mm), ``keypoint_scores`` (M, K), and any of :data:`MESH_FIELDS`; it may have
``smoothed_fields``, and a mesh estimator (``kind == 'mesh'``) has ``draw(image, people, colours) -> image``.
``PoseSession`` (ONNX) and ``pose_plugins.video_inference.TopDownEstimator`` (a config and checkpoint) are
estimators.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ..drawing import draw_poses
from .boxes import boxes_from_keypoints
from .similarity import box_iou_matrix
from .smoothing import TrackSmoother
from .sources import Frame, FrameSource
from .tracker import PoseTracker
from .writers import JsonLinesWriter, VideoFileWriter, refuse_existing

__all__ = ['FramePrediction', 'INTERRUPTED', 'MESH_FIELDS', 'VideoSummary', 'iterate_video', 'run_video',
           'track_colour']

#: Exit status of a command stopped by Ctrl-C (128 + SIGINT), its outputs kept.
INTERRUPTED = 130

#: Mesh models' per-person outputs written to JSON lines (axis-angle pose (J * 3,), shape (S,), weak camera (3,)).
MESH_FIELDS = ('body_pose', 'body_shape', 'camera')
#: What is smoothed per track when a smoother is given and the estimator names nothing else.
DEFAULT_SMOOTHED = ('keypoints', ) + MESH_FIELDS + ('vertices', 'camera_translation')
#: Decimals of each field in JSON lines (pixels, scores, radians / metres).
_DECIMALS = dict(bbox=2, keypoints=2, keypoint_scores=4, bbox_score=4)


@dataclass
class FramePrediction:
    """One frame's result: the frame, whether the detector ran on it, and ``people``: arrays with one row per
    person (``bbox`` (M, 4), ``bbox_score`` (M,), ``track_id`` (M,) int (-1: not tracked), the estimator's fields)."""

    frame: Frame
    detected: bool
    people: Dict[str, np.ndarray]

    def record(self) -> Dict[str, Any]:
        """The frame as one JSON-lines object: ``frame``, ``time``, ``detected`` and ``people`` (a dict per person
        with ``track_id`` (null when not tracked), ``bbox``, ``bbox_score``, ``keypoints``, ``keypoint_scores`` and,
        for mesh models, :data:`MESH_FIELDS`)."""
        fields = ('track_id', 'bbox', 'bbox_score', 'keypoints', 'keypoint_scores') + MESH_FIELDS
        people = []
        for row in range(len(self.people['bbox'])):
            person: Dict[str, Any] = {}
            for name in fields:
                if name not in self.people:
                    continue
                value = self.people[name][row]
                if name == 'track_id':
                    person[name] = int(value) if value >= 0 else None
                else:
                    person[name] = np.round(np.asarray(value, dtype=np.float64), _DECIMALS.get(name, 5)).tolist()
            people.append(person)
        return dict(frame=self.frame.index, time=round(self.frame.time, 4), detected=self.detected, people=people)


@dataclass
class VideoSummary:
    """What a :func:`run_video` call did: frames read and written, frames skipped (indices), detector calls,
    seconds and frames per second of the loop, whether Ctrl-C stopped it, the outputs, and the tracks started."""

    frames: int = 0
    skipped: List[int] = field(default_factory=list)
    detector_calls: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    video_out: Optional[str] = None
    json_out: Optional[str] = None
    num_tracks: int = 0  # distinct track ids written

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_status(self) -> int:
        """A command's exit status for the run: :data:`INTERRUPTED` after Ctrl-C, else 0."""
        return INTERRUPTED if self.interrupted else 0

    def report(self) -> str:
        """The run in a few lines for a terminal: frames, rate, detector calls, tracks, skipped frames, outputs,
        and whether Ctrl-C stopped it."""
        lines = [f'{self.frames} frames in {self.seconds:.1f} s ({self.fps:.1f} frames/s), {self.detector_calls} '
                 f'with the detector, {self.num_tracks} track(s)'
                 + (f'; {len(self.skipped)} frame(s) skipped (failed to decode): {self.skipped[:10]}'
                    if self.skipped else '')]
        outputs = [f'{name}: {path}' for name, path in (('video', self.video_out), ('predictions', self.json_out))
                   if path]
        if outputs:
            lines.append('  '.join(outputs))
        if self.interrupted:
            lines.append(f'stopped by Ctrl-C after {self.frames} frames; what was written is kept')
        return '\n'.join(lines)


def track_colour(track_id: int) -> Tuple[int, int, int]:
    """A BGR colour per track id (golden-ratio hues, so neighbouring ids differ); grey for -1."""
    if track_id < 0:
        return (160, 160, 160)
    hue = int((track_id * 0.618034 % 1.0) * 179)
    return tuple(int(c) for c in cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0])


def iterate_video(source: FrameSource, estimator: Any, *, detector: Callable[[Frame], np.ndarray],
                  tracker: Optional[PoseTracker] = None, smoother: Optional[TrackSmoother] = None,
                  redetect_every: int = 1, bbox_thr: float = 0.0, carry_score_thr: float = 0.3,
                  carry_padding: float = 1.2, carry_max_overlap: float = 0.3, lost_score: float = 0.2,
                  max_frames: Optional[int] = None) -> Iterator[FramePrediction]:
    """An iterator over the :class:`FramePrediction` of each decoded frame of ``source`` (the options are
    checked at the call, before any frame is read).

    Args:
        detector: frame -> (M, 5) boxes ``x1, y1, x2, y2, score``; boxes scoring at most ``bbox_thr`` are dropped.
        tracker: matches people between frames (None: no ids, ``track_id`` -1).
        smoother: One-Euro filters per track on the estimator's ``smoothed_fields`` (needs ``tracker``).
        redetect_every: 1 runs ``detector`` on every frame; N > 1 (needs ``tracker``) on every N-th frame and
            on the frame after a track went missing or a carried person was lost, and while two carried boxes
            overlap by more than ``carry_max_overlap`` IoU (people crossing); in between each track's box comes from
            its previous keypoints (:func:`boxes_from_keypoints` with ``carry_score_thr`` and ``carry_padding``,
            moved by the tracker's constant-velocity prediction, its size kept within 0.8-1.25 times the track's
            box at the last detection).
        lost_score: a person on a carried box whose mean keypoint score is below this is dropped as lost.
        max_frames: stop after this many decoded frames.

    Raises:
        ValueError: ``redetect_every`` < 1, or smoothing or carried boxes without a tracker.
    """
    if redetect_every < 1:
        raise ValueError(f'redetect_every must be >= 1, got {redetect_every!r}')
    if tracker is None and (smoother is not None or redetect_every > 1):
        raise ValueError('smoothing and pose-carried boxes (redetect_every > 1) need a tracker')
    return _predictions(source, estimator, detector, tracker, smoother, redetect_every, bbox_thr, carry_score_thr,
                        carry_padding, carry_max_overlap, lost_score, max_frames)


def _predictions(source: FrameSource, estimator: Any, detector: Callable[[Frame], np.ndarray],
                 tracker: Optional[PoseTracker], smoother: Optional[TrackSmoother], redetect_every: int,
                 bbox_thr: float, carry_score_thr: float, carry_padding: float, carry_max_overlap: float,
                 lost_score: float, max_frames: Optional[int]) -> Iterator[FramePrediction]:
    """:func:`iterate_video`'s frames, its arguments checked."""
    smoothed = tuple(getattr(estimator, 'smoothed_fields', DEFAULT_SMOOTHED))
    last_detection, force_detect = None, True
    detected_size: Dict[int, np.ndarray] = {}  # track id -> (2, ) its box size at the last detection
    for count, frame in enumerate(source):
        if max_frames is not None and count >= max_frames:
            break
        carried = None
        if not force_detect and last_detection is not None and frame.index - last_detection < redetect_every:
            carried = _carried_boxes(tracker, frame.index, detected_size, carry_score_thr, carry_padding,
                                     carry_max_overlap)
        if carried is None:
            boxes = np.asarray(detector(frame), dtype=np.float32).reshape(-1, 5)
            boxes = boxes[boxes[:, 4] > bbox_thr]
            last_detection = frame.index
        else:
            boxes = carried
        people = _estimate(estimator, frame.image, boxes)
        force_detect = False
        if carried is not None:
            kept = people['keypoint_scores'].mean(1) >= lost_score if len(boxes) else np.zeros(0, bool)
            force_detect = not kept.all()
            people = {name: value[kept] for name, value in people.items()}
        if tracker is not None:
            ids = tracker.update(people['bbox'], people['keypoints'][..., :2], people['keypoint_scores'],
                                 frame=frame.index)
            people['track_id'] = np.asarray(ids, dtype=np.int64)
            if carried is None:
                detected_size = {int(i): b[2:] - b[:2] for i, b in zip(ids, people['bbox'].astype(np.float64))}
            # a track lost just now, or none left: look for people at the next frame
            force_detect = force_detect or not tracker.tracks or any(t.missed == 1 for t in tracker.tracks)
            if smoother is not None:
                smoother.end(tracker.ended)
                fields = {name: people[name] for name in smoothed if name in people}
                people.update(smoother(people['track_id'].tolist(), fields, frame.time))
        else:
            people['track_id'] = np.full(len(people['bbox']), -1, np.int64)
        yield FramePrediction(frame, carried is None, people)


def _carried_boxes(tracker: PoseTracker, frame: int, detected_size: Dict[int, np.ndarray], score_thr: float,
                   padding: float, max_overlap: float) -> Optional[np.ndarray]:
    """(M, 5) boxes of the tracks seen in the last frame from their predicted keypoints, or None (detect instead)
    when one has too few confident keypoints, was not in the last detection, or two overlap by more than
    ``max_overlap`` IoU."""
    seen = {track.track_id: track for track in tracker.tracks if track.missed == 0}
    predicted = [(track_id, keypoints, seen[track_id].scores) for track_id, _, keypoints in tracker.predicted(frame)
                 if track_id in seen]
    if not predicted or any(track_id not in detected_size for track_id, _, _ in predicted):
        return None
    boxes = boxes_from_keypoints(np.stack([k for _, k, _ in predicted]), np.stack([s for _, _, s in predicted]),
                                 score_thr=score_thr, padding=padding)
    if not np.isfinite(boxes).all():
        return None
    # a pose spread over two people, or half out of the picture, must not make the box much larger or smaller than
    # the person's box at the last detection
    size = boxes[:, 2:] - boxes[:, :2]
    anchor = np.stack([detected_size[track_id] for track_id, _, _ in predicted])
    half = np.maximum(np.clip(size, 0.8 * anchor, 1.25 * anchor) / 2.0, 1.0)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    overlap = box_iou_matrix(boxes, boxes)
    np.fill_diagonal(overlap, 0.0)
    if overlap.max(initial=0.0) > max_overlap:
        return None
    return np.concatenate([boxes, np.ones((len(boxes), 1))], axis=1).astype(np.float32)


def _estimate(estimator: Any, image: np.ndarray, boxes: np.ndarray) -> Dict[str, np.ndarray]:
    """The estimator's fields for ``boxes`` (M, 5) in one batch, with ``bbox`` and ``bbox_score`` added."""
    if len(boxes):
        output = estimator(image, boxes[:, :4])
        people = {name: np.asarray(value) for name, value in
                  (output.items() if isinstance(output, dict) else zip(('keypoints', 'keypoint_scores'), output))}
    else:
        people = {'keypoints': np.zeros((0, 0, 2), np.float32), 'keypoint_scores': np.zeros((0, 0), np.float32)}
    people['bbox'] = boxes[:, :4].astype(np.float32)
    people['bbox_score'] = boxes[:, 4].astype(np.float32)
    return people


def draw_frame(image: np.ndarray, estimator: Any, people: Dict[str, np.ndarray], *,
               kpt_thr: float = 0.3) -> np.ndarray:
    """The frame with each person's box, track id and skeleton (keypoints scoring above ``kpt_thr``) or, for a
    mesh estimator, its ``draw``'s meshes; one colour per track."""
    ids = people['track_id'].tolist()
    colours = [track_colour(i) for i in ids]
    if estimator.kind == 'mesh':
        canvas = estimator.draw(image, people, colours)
    else:
        canvas = draw_poses(image, people['keypoints'], people['keypoint_scores'], estimator.skeleton_links,
                            kpt_thr=kpt_thr, colours=colours)
    for box, track_id, colour in zip(people['bbox'], ids, colours):
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 1, cv2.LINE_AA)
        if track_id >= 0:
            cv2.putText(canvas, str(track_id), (x1 + 2, max(y1 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1,
                        cv2.LINE_AA)
    return canvas


def run_video(source: FrameSource, estimator: Any, *, detector: Callable[[Frame], np.ndarray],
              video_out: Optional[str] = None, json_out: Optional[str] = None, progress: bool = True,
              kpt_thr: float = 0.3, on_frame: Optional[Callable[[FramePrediction], None]] = None,
              **options: Any) -> VideoSummary:
    """Run :func:`iterate_video` over ``source`` (``options`` are its keywords) with a progress bar (tqdm,
    frames/s), writing the drawn frames to ``video_out`` and one JSON line per frame to ``json_out``.

    Ctrl-C stops cleanly: the outputs keep every frame done so far (the video stays playable) and the summary says
    ``interrupted``. Raises FileExistsError naming an output that exists, or :func:`iterate_video`'s ValueError,
    before any frame is read or output written.
    """
    refuse_existing(video_out, json_out)
    try:
        predictions = iterate_video(source, estimator, detector=detector, **options)
    except ValueError:
        source.close()
        raise
    summary = VideoSummary(video_out=video_out, json_out=json_out)
    video = VideoFileWriter(video_out, fps=source.fps) if video_out else None
    lines = JsonLinesWriter(json_out) if json_out else None
    track_ids = set()
    bar = tqdm(total=source.num_frames if options.get('max_frames') is None else min(
        source.num_frames or options['max_frames'], options['max_frames']), unit='frame', disable=not progress,
        file=sys.stderr, dynamic_ncols=True, leave=True)
    start = time.perf_counter()
    try:
        for prediction in predictions:
            summary.frames += 1
            summary.detector_calls += prediction.detected
            track_ids.update(i for i in prediction.people['track_id'].tolist() if i >= 0)
            if video is not None:
                video.write(draw_frame(prediction.frame.image, estimator, prediction.people, kpt_thr=kpt_thr))
            if lines is not None:
                lines.write(prediction.record())
            if on_frame is not None:
                on_frame(prediction)
            bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        summary.seconds = time.perf_counter() - start
        bar.close()
        source.close()
        for writer in (video, lines):
            if writer is not None:
                writer.close()
    summary.skipped = list(source.skipped)
    summary.num_tracks = len(track_ids)
    return summary
