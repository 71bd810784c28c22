"""PoseTracker on hand-made sequences of COCO-17 stick figures: exact id sequences for crossing people, people
missing for a while, entering, leaving and empty frames; motion prediction; refusals."""
from typing import List, Sequence, Tuple

import numpy as np
import pytest

from pose_plugins_runtime.video.tracker import PoseTracker, Track

#: A standing person (17, 2) in pixels around its centre, COCO order (nose, eyes, ears, shoulders, elbows, wrists,
#: hips, knees, ankles), about 80 x 190 px.
SKELETON = np.array([[0, -90], [-5, -95], [5, -95], [-10, -92], [10, -92], [-20, -65], [20, -65], [-30, -30],
                     [30, -30], [-35, 0], [35, 0], [-15, 0], [15, 0], [-17, 50], [17, 50], [-18, 95], [18, 95]],
                    dtype=np.float64)


def person(cx: float, cy: float, scale: float = 1.0) -> Tuple[np.ndarray, np.ndarray]:
    """Keypoints (17, 2) of a person centred at (cx, cy) and its box (4, ), 10 px around them."""
    keypoints = SKELETON * scale + [cx, cy]
    return keypoints, np.concatenate([keypoints.min(0) - 10, keypoints.max(0) + 10])


def detections(people: Sequence[Tuple[np.ndarray, np.ndarray]]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``update``'s boxes (M, 4), keypoints (M, 17, 2) and scores (M, 17) (all 0.9) of ``people``."""
    if not people:
        return np.zeros((0, 4)), np.zeros((0, 17, 2)), np.zeros((0, 17))
    keypoints = np.stack([k for k, _ in people])
    return np.stack([b for _, b in people]), keypoints, np.full(keypoints.shape[:2], 0.9)


def run(tracker: PoseTracker, frames: Sequence[Sequence[Tuple[np.ndarray, np.ndarray]]],
        start: int = 0) -> Tuple[List[List[int]], List[List[int]]]:
    """The ids of each frame's people (in the order given) and the ids ended at each frame."""
    ids, ended = [], []
    for frame, people in enumerate(frames, start=start):
        ids.append(tracker.update(*detections(people), frame=frame).tolist())
        ended.append(tracker.ended)
    return ids, ended


@pytest.mark.parametrize('similarity', ['oks+iou', 'oks', 'iou'])
def test_crossing_people_keep_their_ids(similarity):
    """A walks right, B walks left 20 px lower and a little larger; at frame 8 they stand at the same x, their boxes
    overlapping by ~80%. Detections come in a shuffled order."""
    rng = np.random.default_rng(0)
    tracker = PoseTracker(similarity=similarity)
    for frame in range(17):
        a = person(100 + 25 * frame, 200)
        b = person(500 - 25 * frame, 220, scale=1.1)
        order = [0, 1] if frame == 0 else rng.permutation(2).tolist()
        ids = tracker.update(*detections([(a, b)[i] for i in order]), frame=frame)
        assert ids.dtype == np.int64
        assert [ids[order.index(0)], ids[order.index(1)]] == [0, 1], f'frame {frame}: ids {ids} of order {order}'
    assert [t.track_id for t in tracker.tracks] == [0, 1]
    assert [t.hits for t in tracker.tracks] == [17, 17]


def test_crossing_needs_motion_when_poses_meet():
    """Two same-size people walking at 12 px / frame towards each other, 6 px apart in height: at frame 10 each
    one's last pose (frame 9) is nearer to the other person (7.8 px) than to themself (12 px), so without motion the
    ids swap there; with motion each track's prediction lands on its own person."""
    frames = [[person(100 + 12 * f, 200), person(333 - 12 * f, 206)] for f in range(16)]
    ids, _ = run(PoseTracker(similarity='oks', motion=True), frames)
    assert ids == [[0, 1]] * 16
    ids, _ = run(PoseTracker(similarity='oks', motion=False), frames)
    assert ids == [[0, 1]] * 10 + [[1, 0]] * 6


@pytest.mark.parametrize('motion, gap, expected_ids, ended_at', [
    pytest.param(True, 3, [0] * 5 + [0] * 3, None, id='back-after-3-missed-keeps-id'),
    pytest.param(True, 4, [0] * 5 + [1] * 3, 8, id='back-after-4-missed-new-id'),
    pytest.param(False, 3, [0] * 5 + [1] * 3, 8, id='no-motion-too-far-new-id'),
])
def test_person_missing_for_a_while(motion, gap, expected_ids, ended_at):
    """A person walks right at 30 px / frame through frames 0-4, is missing for ``gap`` frames and comes back where
    their walk would have taken them (120 px or more from where last seen: no overlap with the last box).
    ``max_missed=3``: a track survives 3 missed frames."""
    tracker = PoseTracker(max_missed=3, motion=motion)
    frames = [[person(100 + 30 * f, 200)] if f < 5 or f >= 5 + gap else [] for f in range(5 + gap + 3)]
    ids, ended = run(tracker, frames)
    assert [i for frame in ids for i in frame] == expected_ids
    expected_ended = [[0] if frame == ended_at else [] for frame in range(len(frames))]
    assert ended == expected_ended


def test_enter_leave_ids_never_reused():
    """A and B from frame 0, C enters at frame 3, A leaves after frame 4 (ends at frame 7 with max_missed=2),
    D enters at frame 9: ids 0, 1, 2, then 3 (not A's 0)."""
    tracker = PoseTracker(max_missed=2)
    frames = []
    for f in range(12):
        people = []
        if f <= 4:
            people.append(person(100 + 5 * f, 200))  # A
        people.append(person(400, 200 + 3 * f))  # B
        if f >= 3:
            people.append(person(700 - 5 * f, 250))  # C
        if f >= 9:
            people.append(person(1000, 300))  # D
        frames.append(people)
    ids, ended = run(tracker, frames)
    assert ids == [[0, 1]] * 3 + [[0, 1, 2]] * 2 + [[1, 2]] * 4 + [[1, 2, 3]] * 3
    assert ended == [[]] * 7 + [[0]] + [[]] * 4
    assert [t.track_id for t in tracker.tracks] == [1, 2, 3]


def test_empty_frames_and_skipped_frames():
    tracker = PoseTracker(max_missed=2)
    ids = tracker.update(*detections([]), frame=0)
    assert ids.shape == (0, ) and ids.dtype == np.int64 and tracker.tracks == []
    assert tracker.update(*detections([person(100, 200)]), frame=1).tolist() == [0]
    for frame in (2, 3):
        assert tracker.update(*detections([]), frame=frame).tolist() == []
        assert tracker.ended == [] and tracker.tracks[0].missed == frame - 1
    # Frames 4-6 are skipped by the caller: at frame 7 track 0 has missed 5 frames, more than 2; it ends and the same
    # person, at the same place, starts track 1.
    assert tracker.update(*detections([person(100, 200)]), frame=7).tolist() == [1]
    assert tracker.ended == [0]


def test_assignment_maximises_similarity_of_valid_pairs_only():
    """IoU similarity, threshold 0.3. Track X = [0, 10] x [0, 10], track Y 8 px right of it. Detections: d0 (X moved
    2.5 px right: IoU 0.6 with X, 0.29 with Y) and d1 (X moved 10/3 px left: IoU 0.5 with X, 0 with Y). Over all
    pairs X-d1 + Y-d0 (0.79) beats X-d0 (0.6), but Y-d0 is below the threshold: X must take d0, d1 starts track 2."""
    tracker = PoseTracker(similarity='iou', match_threshold=0.3)
    x, y = [0, 0, 10, 10], [8, 0, 18, 10]
    d0, d1 = [2.5, 0, 12.5, 10], [-10 / 3, 0, 20 / 3, 10]
    keypoints, scores = np.zeros((2, 17, 2)), np.ones((2, 17))
    assert tracker.update(np.array([x, y], dtype=np.float64), keypoints, scores, frame=0).tolist() == [0, 1]
    assert tracker.update(np.array([d0, d1]), keypoints, scores, frame=1).tolist() == [0, 2]


def test_track_fields_and_prediction():
    tracker = PoseTracker(max_missed=3)
    k0, b0 = person(100, 200)
    k1, b1 = person(130, 210)
    tracker.update(*detections([(k0, b0)]), frame=0)
    boxes, keypoints, scores = detections([(k1, b1)])
    scores[0, 9] = 0.1  # a wrist below min_keypoint_score (0.2): moves with the box centre
    keypoints[0, 9] += [50, 50]
    tracker.update(boxes, keypoints, scores, frame=2)  # two frames later: 15 px / frame in x, 5 in y

    (track, ) = tracker.tracks
    assert isinstance(track, Track)
    assert (track.track_id, track.first_frame, track.last_frame, track.missed, track.hits) == (0, 0, 2, 0, 2)
    np.testing.assert_array_equal(track.box, b1)
    np.testing.assert_array_equal(track.box_velocity, [15, 5, 15, 5])
    assert not track.keypoints.flags.writeable

    (track_id, box, kpts), = tracker.predicted(5)  # 3 frames ahead
    assert track_id == 0
    np.testing.assert_allclose(box, b1 + 45 * np.array([1, 1 / 3, 1, 1 / 3]), rtol=1e-15)  # float64, integers
    np.testing.assert_allclose(kpts, keypoints[0] + [45, 15], rtol=1e-15)
    assert [t for t, _, _ in tracker.predicted(6)] == [0]  # after 3 missed frames (3, 4, 5) it can still match
    assert tracker.predicted(7) == []  # 4 missed frames: past its patience

    static = PoseTracker(max_missed=3, motion=False)
    static.update(*detections([(k0, b0)]), frame=0)
    static.update(*detections([(k1, b1)]), frame=1)
    np.testing.assert_array_equal(static.predicted(4)[0][2], k1)


def test_reset_restarts_ids():
    tracker = PoseTracker()
    tracker.update(*detections([person(100, 200), person(400, 200)]), frame=5)
    tracker.reset()
    assert tracker.tracks == [] and tracker.ended == []
    assert tracker.update(*detections([person(400, 200)]), frame=0).tolist() == [0]


@pytest.mark.parametrize('kwargs, match', [
    pytest.param({'similarity': 'pose'}, r"similarity must be one of \('oks', 'iou', 'oks\+iou'\), "
                 r"got similarity='pose'", id='similarity'),
    pytest.param({'oks_weight': 1.5}, r'oks_weight must be in \[0, 1\], got oks_weight=1.5', id='oks-weight'),
    pytest.param({'match_threshold': -0.1}, r'match_threshold must be in \[0, 1\], got match_threshold=-0.1',
                 id='threshold'),
    pytest.param({'max_missed': -1}, r'max_missed must be an int >= 0 \(frames\), got max_missed=-1',
                 id='max-missed-negative'),
    pytest.param({'max_missed': 2.5}, r'got max_missed=2.5', id='max-missed-float'),
    pytest.param({'min_keypoint_score': float('nan')}, r'min_keypoint_score must be finite', id='min-score'),
    pytest.param({'motion': 'yes'}, r"motion must be a bool, got motion='yes'", id='motion'),
    pytest.param({'sigmas': [0.1, 0.0]}, r'sigmas must be a \(K, \) sequence of finite values > 0, '
                 r'got sigmas=\[0.1, 0.0\]', id='sigmas'),
])
def test_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PoseTracker(**kwargs)


def test_update_refusals():
    tracker = PoseTracker()
    boxes, keypoints, scores = detections([person(100, 200), person(400, 200)])
    with pytest.raises(ValueError, match=r'shapes \(M, 4\), \(M, K, 2\) and \(M, K\), got \(2, 4\), '
                                         r'\(2, 17, 2\) and \(2, 16\)'):
        tracker.update(boxes, keypoints, scores[:, :16], frame=0)
    with pytest.raises(ValueError, match=r'got \(1, 4\), \(2, 17, 2\) and \(2, 17\)'):
        tracker.update(boxes[:1], keypoints, scores, frame=0)
    with pytest.raises(ValueError, match=r'keypoints have K=5 but sigmas has 17 entries'):
        tracker.update(boxes, keypoints[:, :5], scores[:, :5], frame=0)
    with pytest.raises(ValueError, match=r'frame must be an int frame index, got frame=0.5'):
        tracker.update(boxes, keypoints, scores, frame=0.5)
    tracker.update(boxes, keypoints, scores, frame=3)
    with pytest.raises(ValueError, match=r"frame must be greater than the last update's frame 3, got frame=3"):
        tracker.update(boxes, keypoints, scores, frame=3)
    with pytest.raises(ValueError, match=r"frame must be at least the last update's frame 3, got frame=2"):
        tracker.predicted(2)
    with pytest.raises(ValueError, match=r'keypoints have K=5, but earlier frames had K=17'):
        tracker.update(boxes, keypoints[:, :5], scores[:, :5], frame=4)
    assert tracker.update(boxes, keypoints, scores, frame=4).tolist() == [0, 1]  # refusals changed nothing

    iou_only = PoseTracker(similarity='iou')  # no sigmas needed
    assert iou_only.update(boxes, keypoints[:, :5], scores[:, :5], frame=0).tolist() == [0, 1]
    custom = PoseTracker(similarity='oks', sigmas=[0.05] * 5)
    assert custom.update(boxes, keypoints[:, :5], scores[:, :5], frame=0).tolist() == [0, 1]
