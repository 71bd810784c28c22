"""Identities of people across video frames by pose similarity and optimal assignment (Xiao, Wu, Wei, "Simple
Baselines for Human Pose Estimation and Tracking", ECCV 2018), with constant-velocity motion across missed frames.

Note: M detections in a frame, T active tracks, K keypoints; coordinates in image pixels, time in frames.
"""
import dataclasses
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from .similarity import COCO_SIGMAS, box_iou_matrix, oks_matrix

__all__ = ['Track', 'PoseTracker']

_SIMILARITIES = ('oks', 'iou', 'oks+iou')


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Track:
    """One person's track after an update (read-only arrays): the last matched detection's ``box`` (4, )
    ``x1, y1, x2, y2``, ``keypoints`` (K, 2) and ``scores`` (K, ); the frames of its first and last match; ``missed``
    frames since the last match; ``hits`` matched frames; and the constant velocities (pixels / frame) from its last
    two matches, ``box_velocity`` (4, ) and ``keypoint_velocity`` (K, 2) (zero after one match or without motion)."""
    track_id: int
    box: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    first_frame: int
    last_frame: int
    missed: int
    hits: int
    box_velocity: np.ndarray
    keypoint_velocity: np.ndarray


class PoseTracker:
    """Frame-to-frame identity assignment: tracks x detections ``similarity`` (``'oks'``, ``'iou'`` or
    ``'oks+iou'`` = ``oks_weight * OKS + (1 - oks_weight) * IoU``; ``oks_weight`` is read by ``'oks+iou'`` only)
    between each track's predicted state and the detections, maximised by ``scipy.optimize.linear_sum_assignment``;
    a pair is matched only if its similarity is >= ``match_threshold``. OKS is scaled by the detection's box area,
    with the ``sigmas`` (K, ) (default COCO's), over keypoints scored >= ``min_keypoint_score`` in both the track
    and the detection.

    Ids are 0, 1, 2, ... in order of appearance and never reused until :meth:`reset`. A track survives up to
    ``max_missed`` frames without a match; with ``motion`` its keypoints and box move at the velocity of its last two
    matches across those frames. Xiao et al. propagate poses by optical flow and match greedily; here the motion is
    constant velocity (no flow, numpy only) and the assignment optimal.
    """

    def __init__(self, *, similarity: str = 'oks+iou', oks_weight: float = 0.5, match_threshold: float = 0.3,
                 max_missed: int = 10, min_keypoint_score: float = 0.2, motion: bool = True,
                 sigmas: Optional[Sequence[float]] = None) -> None:
        if similarity not in _SIMILARITIES:
            raise ValueError(f'PoseTracker: similarity must be one of {_SIMILARITIES}, got similarity={similarity!r}')
        if not 0 <= oks_weight <= 1:
            raise ValueError(f'PoseTracker: oks_weight must be in [0, 1], got oks_weight={oks_weight!r}')
        if not 0 <= match_threshold <= 1:
            raise ValueError(f'PoseTracker: match_threshold must be in [0, 1], got match_threshold={match_threshold!r}')
        if isinstance(max_missed, bool) or not isinstance(max_missed, (int, np.integer)) or max_missed < 0:
            raise ValueError(f'PoseTracker: max_missed must be an int >= 0 (frames), got max_missed={max_missed!r}')
        if not np.isfinite(min_keypoint_score):
            raise ValueError(f'PoseTracker: min_keypoint_score must be finite, got '
                             f'min_keypoint_score={min_keypoint_score!r}')
        if not isinstance(motion, (bool, np.bool_)):
            raise ValueError(f'PoseTracker: motion must be a bool, got motion={motion!r}')
        if sigmas is not None:
            sigmas = np.asarray(sigmas, dtype=np.float64)
            if sigmas.ndim != 1 or not (np.isfinite(sigmas) & (sigmas > 0)).all():
                raise ValueError(f'PoseTracker: sigmas must be a (K, ) sequence of finite values > 0, got '
                                 f'sigmas={sigmas.tolist()}')
        self.similarity = similarity
        self.oks_weight = float(oks_weight)
        self.match_threshold = float(match_threshold)
        self.max_missed = int(max_missed)
        self.min_keypoint_score = float(min_keypoint_score)
        self.motion = bool(motion)
        self.sigmas = sigmas
        self.reset()

    def reset(self) -> None:
        """Forget every track; ids start again at 0."""
        self._tracks: List[Track] = []
        self._ended: List[int] = []
        self._next_id = 0
        self._frame: Optional[int] = None
        self._num_keypoints: Optional[int] = None

    @property
    def tracks(self) -> List[Track]:
        """The active tracks after the last update, by id."""
        return list(self._tracks)

    @property
    def ended(self) -> List[int]:
        """Ids of the tracks the last update ended (unmatched for more than ``max_missed`` frames), ascending."""
        return list(self._ended)

    def predicted(self, frame: int) -> List[Tuple[int, np.ndarray, np.ndarray]]:
        """``(track_id, box (4, ), keypoints (K, 2))`` of each active track that can still be matched at ``frame``
        (not after the last update's frame), moved to ``frame`` at its velocity when ``motion`` is on."""
        frame = self._check_frame(frame, strict=False)
        tracks = [t for t in self._tracks if frame - t.last_frame - 1 <= self.max_missed]
        boxes, keypoints = self._predict(tracks, frame)
        return [(t.track_id, b, k) for t, b, k in zip(tracks, boxes, keypoints)]

    def update(self, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, *, frame: int) -> np.ndarray:
        """Track ids (M, ) int64 of the detections ``boxes`` (M, 4) ``x1, y1, x2, y2``, ``keypoints`` (M, K, 2)
        and keypoint ``scores`` (M, K) at ``frame`` (greater than the previous update's). Unmatched detections
        start new tracks; tracks unmatched for more than ``max_missed`` frames end (see :attr:`ended`)."""
        boxes, keypoints, scores = self._check_detections(boxes, keypoints, scores)
        frame = self._check_frame(frame, strict=True)
        # Tracks already past their patience at this frame (only when the caller skipped frames) cannot match.
        stale = [t for t in self._tracks if frame - t.last_frame - 1 > self.max_missed]
        alive = [t for t in self._tracks if frame - t.last_frame - 1 <= self.max_missed]

        sim = self._similarity_matrix(alive, boxes, keypoints, scores, frame)
        rows, cols = linear_sum_assignment(np.where(sim >= self.match_threshold, sim, 0.0), maximize=True)
        keep = sim[rows, cols] >= self.match_threshold
        track_of = dict(zip(cols[keep].tolist(), rows[keep].tolist()))  # detection -> row in alive

        ids = np.empty(len(boxes), dtype=np.int64)
        tracks, ended = [], [t.track_id for t in stale]
        matched_rows = set(track_of.values())
        for row, track in enumerate(alive):  # unmatched tracks miss this frame
            if row in matched_rows:
                continue
            if frame - track.last_frame > self.max_missed:
                ended.append(track.track_id)
            else:
                tracks.append(dataclasses.replace(track, missed=frame - track.last_frame))
        for det in range(len(boxes)):
            if det in track_of:
                tracks.append(self._matched(alive[track_of[det]], boxes[det], keypoints[det], scores[det], frame))
            else:
                tracks.append(self._new_track(boxes[det], keypoints[det], scores[det], frame))
            ids[det] = tracks[-1].track_id
        self._tracks = sorted(tracks, key=lambda t: t.track_id)
        self._ended = sorted(ended)
        self._frame = frame
        return ids

    def _check_frame(self, frame: int, *, strict: bool) -> int:
        if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)):
            raise ValueError(f'PoseTracker: frame must be an int frame index, got frame={frame!r}')
        frame = int(frame)
        if self._frame is not None and (frame <= self._frame if strict else frame < self._frame):
            relation = 'greater than' if strict else 'at least'
            raise ValueError(f'PoseTracker: frame must be {relation} the last update\'s frame {self._frame}, '
                             f'got frame={frame}')
        return frame

    def _check_detections(self, boxes: np.ndarray, keypoints: np.ndarray,
                          scores: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        boxes, keypoints, scores = (_read_only(np.array(a, dtype=np.float64)) for a in (boxes, keypoints, scores))
        if (boxes.ndim != 2 or boxes.shape[1] != 4 or keypoints.ndim != 3 or keypoints.shape[2] != 2
                or scores.shape != keypoints.shape[:2] or len(boxes) != len(keypoints)):
            raise ValueError('PoseTracker.update: boxes, keypoints and scores must have shapes (M, 4), (M, K, 2) '
                             f'and (M, K), got {boxes.shape}, {keypoints.shape} and {scores.shape}')
        if not np.isfinite(boxes).all():
            raise ValueError(f'PoseTracker.update: boxes must be finite, got {boxes.tolist()}')
        k = keypoints.shape[1]
        if self._num_keypoints is not None and k != self._num_keypoints:
            raise ValueError(f'PoseTracker.update: keypoints have K={k}, but earlier frames had '
                             f'K={self._num_keypoints}')
        if self.similarity != 'iou':
            num_sigmas = len(COCO_SIGMAS if self.sigmas is None else self.sigmas)
            if k != num_sigmas:
                raise ValueError(f'PoseTracker.update: keypoints have K={k} but sigmas has {num_sigmas} entries '
                                 '(pass sigmas for a non-COCO-17 skeleton)')
        self._num_keypoints = k
        return boxes, keypoints, scores

    def _predict(self, tracks: Sequence[Track], frame: int) -> Tuple[np.ndarray, np.ndarray]:
        """Boxes (T, 4) and keypoints (T, K, 2) of ``tracks`` moved to ``frame`` at their velocities; a box keeps
        its centre's motion and never gets a negative size."""
        k = self._num_keypoints or 0
        if not tracks:
            return np.zeros((0, 4)), np.zeros((0, k, 2))
        dt = np.array([frame - t.last_frame for t in tracks], dtype=np.float64)
        boxes = np.stack([t.box for t in tracks]) + np.stack([t.box_velocity for t in tracks]) * dt[:, None]
        keypoints = (np.stack([t.keypoints for t in tracks])
                     + np.stack([t.keypoint_velocity for t in tracks]) * dt[:, None, None])
        center = (boxes[:, :2] + boxes[:, 2:]) / 2
        half = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None) / 2
        return np.concatenate([center - half, center + half], axis=1), keypoints

    def _similarity_matrix(self, tracks: Sequence[Track], boxes: np.ndarray, keypoints: np.ndarray,
                           scores: np.ndarray, frame: int) -> np.ndarray:
        """Similarity (T, M) in [0, 1] of the tracks' predicted states at ``frame`` and the detections."""
        track_boxes, track_keypoints = self._predict(tracks, frame)
        if self.similarity == 'iou':
            return box_iou_matrix(track_boxes, boxes)
        track_scores = np.stack([t.scores for t in tracks]) if tracks else np.zeros((0, keypoints.shape[1]))
        oks = oks_matrix(track_keypoints, keypoints, boxes=boxes, sigmas=self.sigmas,
                         visible=scores >= self.min_keypoint_score,
                         visible_a=track_scores >= self.min_keypoint_score)
        if self.similarity == 'oks':
            return oks
        return self.oks_weight * oks + (1 - self.oks_weight) * box_iou_matrix(track_boxes, boxes)

    def _new_track(self, box: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, frame: int) -> Track:
        track = Track(track_id=self._next_id, box=box, keypoints=keypoints, scores=scores, first_frame=frame,
                      last_frame=frame, missed=0, hits=1, box_velocity=_read_only(np.zeros(4)),
                      keypoint_velocity=_read_only(np.zeros_like(keypoints)))
        self._next_id += 1
        return track

    def _matched(self, track: Track, box: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 frame: int) -> Track:
        """``track`` moved to its matched detection; velocities from the previous match to this one. A keypoint
        not scored >= ``min_keypoint_score`` in both (or not finite) moves with the box centre."""
        box_velocity = np.zeros(4)
        keypoint_velocity = np.zeros_like(keypoints)
        if self.motion:
            dt = frame - track.last_frame
            box_velocity = (box - track.box) / dt
            center_velocity = (box_velocity[:2] + box_velocity[2:]) / 2
            keypoint_velocity = (keypoints - track.keypoints) / dt
            reliable = ((scores >= self.min_keypoint_score) & (track.scores >= self.min_keypoint_score)
                        & np.isfinite(keypoint_velocity).all(-1))
            keypoint_velocity = np.where(reliable[:, None], keypoint_velocity, center_velocity)
        return dataclasses.replace(track, box=box, keypoints=keypoints, scores=scores, last_frame=frame, missed=0,
                                   hits=track.hits + 1, box_velocity=_read_only(box_velocity),
                                   keypoint_velocity=_read_only(keypoint_velocity))
