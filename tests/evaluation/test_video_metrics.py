"""Tests of :mod:`pose_plugins.evaluation.video_metrics` and of ``tools/eval_video.py``'s logic
(:mod:`pose_plugins.apis.eval_video`) on a hand-made clip: two people far apart (their boxes never overlap), 17
keypoints each, every keypoint on a constant-acceleration path, so every expected value is counted by hand."""
import json
import math
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import pytest

from pose_plugins.apis.eval_video import main as eval_video_main
from pose_plugins.evaluation.video_metrics import evaluate_tracking, load_ground_truth, load_predictions

K = 17
NUM_FRAMES = 6
ACCELERATION = np.array([3.0, 4.0])  # px / frame^2 of every keypoint: second difference norm 5
# (K, 2) keypoints about a body's corner: a 4-column grid, 30 x 60 px
BODY = np.stack([np.arange(K) % 4 * 10.0, np.arange(K) // 4 * 15.0], axis=-1)
STARTS = {1: np.array([50.0, 60.0]), 2: np.array([600.0, 60.0]), 3: np.array([1100.0, 60.0])}
PRED_IDS = {1: 10, 2: 20, 3: 30}
EXACT = dict(abs=1e-9)  # float64 sums and differences of values below 1e4: exact to ~1e-12


def _keypoints(track_id: int, t: int) -> np.ndarray:
    """(K, 2) GT keypoints of person ``track_id`` at frame ``t``: start + body + a t^2 / 2."""
    return STARTS[track_id] + BODY + 0.5 * ACCELERATION * t * t


def _box(keypoints: np.ndarray) -> List[float]:
    return [*(keypoints.min(axis=0) - 10.0), *(keypoints.max(axis=0) + 10.0)]


def _ground_truth(track_ids=(1, 2), *, hidden: Optional[int] = None) -> Dict[str, Any]:
    """The clip's ground truth, as ``<stem>_tracks.json`` holds it; person ``hidden`` has every keypoint outside
    the image (visibility 0)."""
    frames = [dict(frame=t, people=[dict(track_id=i, bbox=_box(_keypoints(i, t)), keypoints=_keypoints(i, t).tolist(),
                                         visibility=[0 if i == hidden else 2] * K) for i in track_ids])
              for t in range(NUM_FRAMES)]
    return dict(fps=25.0, width=1280, height=720, num_frames=NUM_FRAMES, keypoint_names=[f'k{k}' for k in range(K)],
                skeleton=[[0, 1]], frames=frames)


def _predictions(ground_truth: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Perfect predictions of ``ground_truth``, GT track i as predicted track ``PRED_IDS[i]``."""
    return [dict(frame=frame['frame'], time=frame['frame'] / 25.0,
                 people=[dict(track_id=PRED_IDS[p['track_id']], bbox=p['bbox'], bbox_score=1.0,
                              keypoints=[list(xy) for xy in p['keypoints']], keypoint_scores=[0.9] * K)
                         for p in frame['people']]) for frame in ground_truth['frames']]


def _write_lines(path: Path, frames: List[Dict[str, Any]]) -> str:
    path.write_text(''.join(json.dumps(frame) + '\n' for frame in frames))
    return str(path)


def test_perfect_predictions():
    metrics = evaluate_tracking(_ground_truth(), _predictions(_ground_truth()))
    assert metrics == dict(mota=1.0, idf1=1.0, id_switches=0, precision=1.0, recall=1.0, num_frames=NUM_FRAMES,
                           num_gt_people=2, num_pred_tracks=2, keypoint_error=0.0,
                           jitter_pred=pytest.approx(5.0, **EXACT), jitter_gt=pytest.approx(5.0, **EXACT),
                           jitter_error=0.0)
    assert metrics['jitter_pred'] == metrics['jitter_gt']


# name: (frames in which the predicted ids of the two people are swapped, ID switches, MOTA, IDF1), by hand over
# 12 GT people-frames: a swap from frame 3 on switches both people once (MOTA 1 - 2/12); the best track assignment
# keeps 3 frames of each person (IDF1 = 2 * 6 / (2 * 6 + 6 + 6)). A one-frame swap switches both there and back.
SWAPS = {
    'swapped from frame 3 on': (range(3, NUM_FRAMES), 2, 1 - 2 / 12, 0.5),
    'swapped in frame 2 only': ([2], 4, 1 - 4 / 12, 2 * 10 / (2 * 10 + 2 + 2)),
}


@pytest.mark.parametrize('frames, switches, mota, idf1', SWAPS.values(), ids=SWAPS.keys())
def test_swapped_ids(frames, switches, mota, idf1):
    predictions = _predictions(_ground_truth())
    for t in frames:
        first, second = predictions[t]['people']
        first['track_id'], second['track_id'] = second['track_id'], first['track_id']
    metrics = evaluate_tracking(_ground_truth(), predictions)
    assert metrics['id_switches'] == switches
    assert metrics['mota'] == pytest.approx(mota, **EXACT)
    assert metrics['idf1'] == pytest.approx(idf1, **EXACT)
    assert metrics['idf1'] < 1.0 and metrics['recall'] == 1.0 and metrics['precision'] == 1.0
    assert metrics['jitter_error'] == 0.0  # runs of three frames with one predicted track only


def test_missed_person_lowers_recall():
    predictions = _predictions(_ground_truth())
    for t in (2, 3):
        del predictions[t]['people'][1]  # person 2 missed in 2 of the 12 GT people-frames
    metrics = evaluate_tracking(_ground_truth(), predictions)
    assert metrics['recall'] == pytest.approx(10 / 12, **EXACT)
    assert metrics['mota'] == pytest.approx(1 - 2 / 12, **EXACT)
    assert (metrics['precision'], metrics['id_switches'], metrics['num_pred_tracks']) == (1.0, 0, 2)


def test_frame_missing_from_predictions_counts_as_misses(tmp_path):
    frames = [frame for frame in _predictions(_ground_truth()) if frame['frame'] != 3]
    metrics = evaluate_tracking(_ground_truth(), load_predictions(_write_lines(tmp_path / 'p.jsonl', frames)))
    assert metrics['num_frames'] == NUM_FRAMES
    assert metrics['recall'] == pytest.approx(10 / 12, **EXACT)  # both people missed in frame 3
    assert metrics['mota'] == pytest.approx(1 - 2 / 12, **EXACT)
    # runs t-1, t, t+1 only around frames 1 and 4 (frame 3 unpaired): still exact
    assert metrics['jitter_gt'] == pytest.approx(5.0, **EXACT)


D = 0.75  # px


def _jittered(predictions: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``predictions`` with every keypoint's x moved by +D at even frames and -D at odd ones."""
    for frame in predictions:
        sign = 1.0 if frame['frame'] % 2 == 0 else -1.0
        for person in frame['people']:
            person['keypoints'] = [[x + sign * D, y] for x, y in person['keypoints']]
    return predictions


def test_jittered_prediction():
    metrics = evaluate_tracking(_ground_truth(), _jittered(_predictions(_ground_truth())))
    # pred - GT = D (-1)^t on x: second difference 4 D at each interior frame
    assert metrics['jitter_error'] == pytest.approx(4 * D, **EXACT)
    assert metrics['keypoint_error'] == pytest.approx(D, **EXACT)
    # pred's second difference (3 - 4 D (-1)^t, 4): (6, 4) at odd t, (0, 4) at even t; interior t = 1..4
    assert metrics['jitter_pred'] == pytest.approx((math.hypot(6.0, 4.0) + 4.0) / 2, **EXACT)
    assert metrics['jitter_gt'] == pytest.approx(5.0, **EXACT)
    assert (metrics['mota'], metrics['idf1'], metrics['id_switches']) == (1.0, 1.0, 0)


def test_keypoints_outside_the_image_are_left_out():
    ground_truth = _ground_truth()
    predictions = _jittered(_predictions(ground_truth))
    ground_truth['frames'][3]['people'][0]['visibility'][0] = 0  # keypoint 0 of person 1 in frame 3
    predictions[3]['people'][0]['keypoints'][0][0] += 100.0
    ground_truth['frames'][4]['people'][0]['visibility'][1] = 1  # covered: still counted
    metrics = evaluate_tracking(ground_truth, predictions)
    assert metrics['jitter_error'] == pytest.approx(4 * D, **EXACT)
    assert metrics['keypoint_error'] == pytest.approx(D, **EXACT)


# name: (min_visible, whether person 3, all keypoints outside the image, is predicted) ->
# (counted GT tracks, MOTA, precision): not counted, a prediction on them is dropped (no false positive);
# counted (min_visible 0), unpredicted, they are 6 misses of 18.
UNCOUNTED = {
    'not counted, predicted': (1, True, 2, 1.0, 1.0),
    'not counted, not predicted': (1, False, 2, 1.0, 1.0),
    'counted, not predicted': (0, False, 3, 1 - 6 / 18, 1.0),
}


@pytest.mark.parametrize('min_visible, predicted, num_gt_people, mota, precision', UNCOUNTED.values(),
                         ids=UNCOUNTED.keys())
def test_people_with_too_few_visible_keypoints(min_visible, predicted, num_gt_people, mota, precision):
    ground_truth = _ground_truth((1, 2, 3), hidden=3)
    predictions = _predictions(ground_truth)
    if not predicted:
        for frame in predictions:
            del frame['people'][2]
    metrics = evaluate_tracking(ground_truth, predictions, min_visible=min_visible)
    assert metrics['num_gt_people'] == num_gt_people
    assert metrics['mota'] == pytest.approx(mota, **EXACT)
    assert metrics['precision'] == precision


def test_untracked_predictions_are_new_tracks_every_frame():
    predictions = _predictions(_ground_truth())
    for frame in predictions:
        for person in frame['people']:
            person['track_id'] = None
    metrics = evaluate_tracking(_ground_truth(), predictions)
    assert metrics['id_switches'] == 2 * (NUM_FRAMES - 1)
    assert metrics['num_pred_tracks'] == 0 and metrics['recall'] == 1.0
    assert math.isnan(metrics['jitter_error'])


GOOD_LINE = json.dumps(dict(frame=0, people=[]))
# name: (line 2 of the file, the message after "FILE, line 2")
MALFORMED = {
    'not JSON': ('{"frame": 1, "people": [', r': not JSON'),
    'no people': ('{"frame": 1}', r": field 'people' is missing"),
    'frame not an int': ('{"frame": "1", "people": []}', r": 'frame' must be an int >= 0, got '1'"),
    'person without a box': ('{"frame": 1, "people": [{"track_id": 1, "keypoints": [[0, 0]]}]}',
                             r", people\[0\]: field\(s\) \['bbox'\] missing"),
    'inverted box': ('{"frame": 1, "people": [{"track_id": 1, "bbox": [9, 0, 1, 5], "keypoints": [[0, 0]]}]}',
                     r", people\[0\]: 'bbox' must be \[x1, y1, x2, y2\] with x2 >= x1"),
    'frame given twice': (GOOD_LINE, r': frame 0 again \(first on line 1\)'),
}


@pytest.mark.parametrize('line, message', MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_prediction_lines_are_refused(tmp_path, line, message):
    path = tmp_path / 'preds.jsonl'
    path.write_text(f'{GOOD_LINE}\n{line}\n')
    with pytest.raises(ValueError, match=r'preds\.jsonl, line 2' + message):
        load_predictions(str(path))


def test_malformed_ground_truth_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'gone_tracks\.json does not exist'):
        load_ground_truth(str(tmp_path / 'gone_tracks.json'))
    ground_truth = _ground_truth()
    ground_truth['frames'][2]['people'][1]['keypoints'].pop()
    path = tmp_path / 'clip_tracks.json'
    path.write_text(json.dumps(ground_truth))
    with pytest.raises(ValueError, match=r"clip_tracks\.json: frames\[2\], people\[1\]: 'keypoints' must have shape "
                                         r'\(K, 2\) with K = 17, got shape \(16, 2\)'):
        load_ground_truth(str(path))


def test_prediction_of_a_frame_the_ground_truth_lacks_is_refused():
    predictions = _predictions(_ground_truth())
    predictions[-1]['frame'] = NUM_FRAMES
    with pytest.raises(ValueError, match=r'predictions have frame 6, which the ground truth lacks \(its frames: '
                                         r'0\.\.5\)'):
        evaluate_tracking(_ground_truth(), predictions)


def test_eval_video_tool(tmp_path, capsys):
    gt_path = tmp_path / 'clip_tracks.json'
    gt_path.write_text(json.dumps(_ground_truth()))
    assert load_ground_truth(str(gt_path)) == json.loads(gt_path.read_text())
    perfect = _write_lines(tmp_path / 'perfect.jsonl', _predictions(_ground_truth()))
    empty = _write_lines(tmp_path / 'empty.jsonl', [dict(frame=t, people=[]) for t in range(NUM_FRAMES)])
    out = tmp_path / 'metrics.json'
    eval_video_main([str(gt_path), perfect, empty, '--json', str(out)])
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ['predictions', 'MOTA', 'IDF1', 'ID']
    assert table[1].split()[:4] == [perfect, '1.000', '1.000', '0']
    assert table[2].split()[-4:] == ['-'] * 4  # nothing paired: no keypoint error, no jitter
    report = json.loads(out.read_text())
    assert [run['predictions'] for run in report['results']] == [perfect, empty]
    assert report['results'][0]['jitter_gt'] == pytest.approx(5.0, **EXACT)
    assert report['results'][1]['jitter_error'] is None and report['iou_threshold'] == 0.5
    with pytest.raises(FileExistsError, match=r'--json \S*metrics\.json already exists'):
        eval_video_main([str(gt_path), perfect, '--json', str(out)])
