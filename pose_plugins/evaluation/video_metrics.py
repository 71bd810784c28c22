"""Tracking and keypoint metrics of pose on video against a clip's ground truth, with motmetrics' MOTAccumulator.

Ground truth: ``<stem>_tracks.json`` (:func:`load_ground_truth`); predictions: JSON lines, one per processed frame
(:func:`load_predictions`); metrics: :func:`evaluate_tracking`. N people in a frame, K keypoints, pixels throughout.
"""
import json
import math
import os.path as osp
from numbers import Integral
from typing import Any, Dict, Hashable, List, NamedTuple, Optional, Set, Tuple

import motmetrics
import numpy as np
from scipy.optimize import linear_sum_assignment

from pose_plugins_runtime.video.json_lines import read_frame_lines
from pose_plugins_runtime.video.similarity import box_iou_matrix

__all__ = ['load_ground_truth', 'load_predictions', 'evaluate_tracking']

# motmetrics event types that pair a GT person with a prediction (SWITCH: another predicted track than before)
_PAIRED_EVENTS = ('MATCH', 'SWITCH')
_MOT_METRICS = ('mota', 'idf1', 'num_switches', 'precision', 'recall', 'num_unique_objects')


class _People(NamedTuple):
    """The people of one frame: ``track_ids`` (N,) (None: untracked prediction), ``boxes`` (N, 4)
    ``[x1, y1, x2, y2]``, ``keypoints`` (N, K, 2) x, y, ``visibility`` (N, K) 0/1/2 (ground truth) or None."""
    track_ids: List[Optional[int]]
    boxes: np.ndarray
    keypoints: np.ndarray
    visibility: Optional[np.ndarray]


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _finite_array(value: Any, where: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f'{where} must be numbers, got {value!r}') from None
    if not np.isfinite(array).all():
        raise ValueError(f'{where} has non-finite values (NaN or inf)')
    return array


def _frame_people(frame: Any, where: str, *, num_keypoints: Optional[int], ground_truth: bool) -> _People:
    """The people of a frame dict ``{"frame": int, "people": [...]}``, or a ValueError naming ``where`` and the
    field. Ground truth: keypoints (K, 2) and ``visibility`` (K,); predictions: keypoints (K, 2) or (K, 3), z
    dropped, ``track_id`` may be null. ``num_keypoints`` None: K is that of the frame's first person."""
    if not isinstance(frame, dict):
        raise ValueError(f'{where}: a frame must be a JSON object, got {type(frame).__name__}')
    for key in ('frame', 'people'):
        if key not in frame:
            raise ValueError(f'{where}: field {key!r} is missing')
    if not _is_int(frame['frame']) or frame['frame'] < 0:
        raise ValueError(f"{where}: 'frame' must be an int >= 0, got {frame['frame']!r}")
    if not isinstance(frame['people'], list):
        raise ValueError(f"{where}: 'people' must be a list, got {type(frame['people']).__name__}")
    fields = ('track_id', 'bbox', 'keypoints') + (('visibility',) if ground_truth else ())
    dims = (2,) if ground_truth else (2, 3)
    track_ids, boxes, keypoints, visibility = [], [], [], []
    for j, person in enumerate(frame['people']):
        at = f'{where}, people[{j}]'
        if not isinstance(person, dict):
            raise ValueError(f'{at}: a person must be a JSON object, got {type(person).__name__}')
        missing = [key for key in fields if key not in person]
        if missing:
            raise ValueError(f'{at}: field(s) {missing} missing')
        track_id = person['track_id']
        if not (_is_int(track_id) or track_id is None and not ground_truth):
            raise ValueError(f"{at}: 'track_id' must be an int{'' if ground_truth else ' or null'}, got {track_id!r}")
        if track_id is not None and track_id in track_ids:
            raise ValueError(f'{at}: track_id {track_id} appears twice in the frame')
        box = _finite_array(person['bbox'], f"{at}: 'bbox'")
        if box.shape != (4,) or box[2] < box[0] or box[3] < box[1]:
            raise ValueError(f"{at}: 'bbox' must be [x1, y1, x2, y2] with x2 >= x1, y2 >= y1, got {person['bbox']}")
        points = _finite_array(person['keypoints'], f"{at}: 'keypoints'")
        if num_keypoints is None and points.ndim == 2:
            num_keypoints = points.shape[0]
        if points.ndim != 2 or points.shape[0] != num_keypoints or points.shape[1] not in dims:
            raise ValueError(f"{at}: 'keypoints' must have shape (K, {2 if ground_truth else '2 or 3'}) with "
                             f'K = {num_keypoints}, got shape {points.shape}')
        if ground_truth:
            visible = np.asarray(person['visibility'])
            if visible.shape != (num_keypoints,) or not np.isin(visible, (0, 1, 2)).all():
                raise ValueError(f"{at}: 'visibility' must be {num_keypoints} values out of 0, 1, 2, got "
                                 f"{person['visibility']!r}")
            visibility.append(visible)
        track_ids.append(track_id)
        boxes.append(box)
        keypoints.append(points[:, :2])
    if not track_ids:
        k = num_keypoints or 0
        return _People([], np.zeros((0, 4)), np.zeros((0, k, 2)), np.zeros((0, k), np.int64) if ground_truth else None)
    return _People(track_ids, np.stack(boxes), np.stack(keypoints),
                   np.stack(visibility).astype(np.int64) if ground_truth else None)


def load_ground_truth(path: str) -> Dict[str, Any]:
    """A clip's ground truth ``<stem>_tracks.json``: ``keypoint_names`` (K) and ``frames``, each ``{"frame": int,
    "people": [{"track_id": int, "bbox": [x1, y1, x2, y2], "keypoints": (K, 2), "visibility": (K,) 2 visible,
    1 covered, 0 outside the image}]}``, besides ``fps``, ``width``, ``height``, ``num_frames`` and ``skeleton``.

    Raises:
        FileNotFoundError: naming ``path`` when it is not a file.
        ValueError: naming ``path``, the frame and the field that do not follow that layout.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'ground truth {path} does not exist')
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: not JSON ({err})') from None
    missing = [key for key in ('keypoint_names', 'frames') if not isinstance(data, dict) or key not in data]
    if missing:
        raise ValueError(f'{path}: field(s) {missing} missing (not a <stem>_tracks.json ground truth)')
    if not isinstance(data['keypoint_names'], list) or not data['keypoint_names']:
        raise ValueError(f"{path}: 'keypoint_names' must be a non-empty list, got {data['keypoint_names']!r}")
    if not isinstance(data['frames'], list):
        raise ValueError(f"{path}: 'frames' must be a list, got {type(data['frames']).__name__}")
    seen = set()
    for i, frame in enumerate(data['frames']):
        _frame_people(frame, f'{path}: frames[{i}]', num_keypoints=len(data['keypoint_names']), ground_truth=True)
        if frame['frame'] in seen:
            raise ValueError(f"{path}: frames[{i}]: frame {frame['frame']} appears twice")
        seen.add(frame['frame'])
    return data


def load_predictions(path: str) -> List[Dict[str, Any]]:
    """The frames of a predictions file, JSON lines ``{"frame": int, "time": s, "people": [{"track_id": int or null,
    "bbox": [x1, y1, x2, y2], "bbox_score", "keypoints": (K, 2) or (K, 3), "keypoint_scores": (K,)}]}``, in file
    order; blank lines are skipped.

    Raises:
        FileNotFoundError: naming ``path`` when it is not a file.
        ValueError: naming ``path``, the line number and the field of a malformed line, or a frame given twice.
    """
    frames: List[Dict[str, Any]] = []
    for where, frame in read_frame_lines(path):
        _frame_people(frame, where, num_keypoints=None, ground_truth=False)
        frames.append(frame)
    return frames


def _iou_distances(gt_boxes: np.ndarray, pred_boxes: np.ndarray, iou_threshold: float) -> np.ndarray:
    """MOTAccumulator's distances (N, M): 1 - IoU, NaN (not to be paired) where IoU < ``iou_threshold``."""
    # what motmetrics.distances.iou_matrix computes (for [x, y, w, h] boxes), which in motmetrics 1.4.0 calls
    # np.asfarray, removed in numpy 2
    iou = box_iou_matrix(gt_boxes, pred_boxes)
    return np.where(iou >= iou_threshold, 1.0 - iou, np.nan)


def _not_on_uncounted(gt_boxes: np.ndarray, counted: np.ndarray, pred_boxes: np.ndarray,
                      iou_threshold: float) -> np.ndarray:
    """Mask (M,) of the predictions that stay: those not paired with an uncounted GT person (``counted`` (N,)
    False) when all N GT people and the M predictions are paired one to one by largest total IoU."""
    keep = np.ones(len(pred_boxes), dtype=bool)
    if counted.all() or not len(pred_boxes):
        return keep
    iou = box_iou_matrix(gt_boxes, pred_boxes)
    rows, cols = linear_sum_assignment(np.where(iou >= iou_threshold, iou, 0.0), maximize=True)
    on_uncounted = (iou[rows, cols] >= iou_threshold) & ~counted[rows]
    keep[cols[on_uncounted]] = False
    return keep


class _Accumulated(NamedTuple):
    """What :func:`_accumulate` gathers over a clip: ``accumulator`` (motmetrics' events), ``gt_poses``
    {(frame, GT track id): (keypoints (K, 2), visible (K,) bool)}, ``pred_poses`` {(frame, hypothesis id):
    keypoints (K, 2)}, ``pred_tracks``: the distinct non-null predicted track ids."""
    accumulator: motmetrics.MOTAccumulator
    gt_poses: Dict[Tuple[int, int], Tuple[np.ndarray, np.ndarray]]
    pred_poses: Dict[Tuple[int, int], np.ndarray]
    pred_tracks: Set[int]


def _accumulate(gt_frames: List[Dict[str, Any]], pred_frames: Dict[int, Dict[str, Any]], *, num_keypoints: int,
                iou_threshold: float, min_visible: int) -> _Accumulated:
    """One MOTAccumulator update per GT frame (in frame order), with the frame's predictions or none."""
    accumulated = _Accumulated(motmetrics.MOTAccumulator(), {}, {}, set())
    hypothesis_ids: Dict[Hashable, int] = {}  # predicted track_id, or (frame, index) of an untracked person
    for frame in gt_frames:
        number = frame['frame']
        gt = _frame_people(frame, f'ground truth frame {number}', num_keypoints=num_keypoints, ground_truth=True)
        pred = _frame_people(pred_frames.get(number, {'frame': number, 'people': []}), f'predictions frame {number}',
                             num_keypoints=num_keypoints, ground_truth=False)
        hids = [hypothesis_ids.setdefault((number, j) if track_id is None else track_id, len(hypothesis_ids))
                for j, track_id in enumerate(pred.track_ids)]
        accumulated.pred_tracks.update(track_id for track_id in pred.track_ids if track_id is not None)
        for oid, points, visibility in zip(gt.track_ids, gt.keypoints, gt.visibility):
            accumulated.gt_poses[number, oid] = points, visibility > 0
        for hid, points in zip(hids, pred.keypoints):
            accumulated.pred_poses[number, hid] = points
        counted = (gt.visibility > 0).sum(axis=1) >= min_visible
        keep = _not_on_uncounted(gt.boxes, counted, pred.boxes, iou_threshold)
        accumulated.accumulator.update([oid for oid, c in zip(gt.track_ids, counted) if c],
                                       [hid for hid, k in zip(hids, keep) if k],
                                       _iou_distances(gt.boxes[counted], pred.boxes[keep], iou_threshold),
                                       frameid=number)
    return accumulated


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _keypoint_metrics(accumulated: _Accumulated) -> Dict[str, float]:
    """``keypoint_error`` and ``jitter_pred`` / ``jitter_gt`` / ``jitter_error`` of :func:`evaluate_tracking` over
    the accumulator's pairs (MATCH and SWITCH events)."""
    events = accumulated.accumulator.mot_events
    paired = events[events['Type'].isin(_PAIRED_EVENTS)]
    pairs = {(int(number), int(oid)): int(hid) for number, oid, hid in
             zip(paired.index.get_level_values('FrameId'), paired['OId'], paired['HId'])}
    metrics = dict(keypoint_error=math.nan, jitter_pred=math.nan, jitter_gt=math.nan, jitter_error=math.nan)
    if not pairs:
        return metrics
    pred = np.stack([accumulated.pred_poses[number, hid] for (number, _), hid in pairs.items()])
    gt = np.stack([accumulated.gt_poses[key][0] for key in pairs])
    visible = np.stack([accumulated.gt_poses[key][1] for key in pairs])
    metrics['keypoint_error'] = _mean(np.linalg.norm(pred - gt, axis=-1)[visible])
    # runs (T, 3): a GT track paired with one predicted track at frames t-1, t, t+1
    runs = [[(number + dt, oid, hid) for dt in (-1, 0, 1)] for (number, oid), hid in pairs.items()
            if pairs.get((number - 1, oid)) == hid and pairs.get((number + 1, oid)) == hid]
    if not runs:
        return metrics
    pred = np.array([[accumulated.pred_poses[number, hid] for number, _, hid in run] for run in runs])
    gt = np.array([[accumulated.gt_poses[number, oid][0] for number, oid, _ in run] for run in runs])
    visible = np.array([[accumulated.gt_poses[number, oid][1] for number, oid, _ in run] for run in runs]).all(axis=1)
    for name, tracks in (('jitter_pred', pred), ('jitter_gt', gt), ('jitter_error', pred - gt)):
        second_difference = tracks[:, 2] - 2.0 * tracks[:, 1] + tracks[:, 0]  # (T, K, 2)
        metrics[name] = _mean(np.linalg.norm(second_difference, axis=-1)[visible])
    return metrics


def evaluate_tracking(ground_truth: Dict[str, Any], predictions: List[Dict[str, Any]], *,
                      iou_threshold: float = 0.5, min_visible: int = 1) -> Dict[str, float]:
    """Tracking and keypoint metrics of ``predictions`` (:func:`load_predictions`) against ``ground_truth``
    (:func:`load_ground_truth`) over every ground-truth frame; a frame without predictions counts as one with none.

    Each frame, motmetrics' MOTAccumulator pairs GT people with predictions on box distance 1 - IoU (IoU below
    ``iou_threshold``: not paired), keeping the previous frame's pairs that are still allowed. A GT person with fewer
    than ``min_visible`` visible keypoints is not counted: neither a miss nor a pair, and a prediction that pairs
    with them (pairing all GT people by IoU) is dropped, not a false positive (MOTChallenge's distractors). Visible:
    visibility > 0 (in the image, covered or not). An untracked prediction (``track_id`` null) is a new track.

    Returns (NaN where nothing is averaged):
        mota: 1 - (misses + false positives + ID switches) / counted GT people over all frames (CLEAR MOT).
        idf1: 2 IDTP / (2 IDTP + IDFP + IDFN) under the best one-to-one GT-to-predicted track assignment.
        id_switches: pairs of a GT track with another predicted track than the one it was last paired with.
        precision, recall: pairs / predicted people, pairs / counted GT people, over all frames.
        num_frames: GT frames; num_gt_people: counted GT tracks; num_pred_tracks: distinct non-null track ids.
        keypoint_error: mean distance of predicted to GT keypoints over the pairs' visible keypoints, pixels.
        jitter_pred, jitter_gt, jitter_error: mean norm of the second difference ``p[t+1] - 2 p[t] + p[t-1]`` of
            the predicted keypoints, of the GT keypoints and of pred - GT, pixels / frame^2, over each GT track's
            frames t-1, t, t+1 paired with one predicted track and each keypoint visible in all three.
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f'iou_threshold must be in (0, 1], got {iou_threshold!r}')
    if not _is_int(min_visible) or min_visible < 0:
        raise ValueError(f'min_visible must be an int >= 0, got {min_visible!r}')
    gt_frames = sorted(ground_truth['frames'], key=lambda frame: frame['frame'])
    gt_numbers = {frame['frame'] for frame in gt_frames}
    pred_frames: Dict[int, Dict[str, Any]] = {}
    for frame in predictions:
        if frame['frame'] not in gt_numbers:
            raise ValueError(f"predictions have frame {frame['frame']}, which the ground truth lacks (its frames: "
                             f'{min(gt_numbers, default=None)}..{max(gt_numbers, default=None)})')
        pred_frames[frame['frame']] = frame
    accumulated = _accumulate(gt_frames, pred_frames, num_keypoints=len(ground_truth['keypoint_names']),
                              iou_threshold=iou_threshold, min_visible=min_visible)
    summary = motmetrics.metrics.create().compute(accumulated.accumulator, metrics=list(_MOT_METRICS),
                                                  return_dataframe=False)
    return dict(mota=float(summary['mota']), idf1=float(summary['idf1']), id_switches=int(summary['num_switches']),
                precision=float(summary['precision']), recall=float(summary['recall']), num_frames=len(gt_frames),
                num_gt_people=int(summary['num_unique_objects']), num_pred_tracks=len(accumulated.pred_tracks),
                **_keypoint_metrics(accumulated))
