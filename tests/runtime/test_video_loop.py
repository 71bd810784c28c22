"""The pose-on-video loop with a stand-in estimator: outputs, tracks, pose-carried boxes, smoothing, Ctrl-C."""
import json

import cv2
import numpy as np
import pytest

from pose_plugins_runtime.video.boxes import DetectionsFile
from pose_plugins_runtime.video.loop import draw_frame, iterate_video, run_video
from pose_plugins_runtime.video.smoothing import TrackSmoother
from pose_plugins_runtime.video.sources import open_source
from pose_plugins_runtime.video.tracker import PoseTracker
from pose_plugins_runtime.video.writers import VideoFileWriter

K = 17
# keypoints on a 4 x 5 grid spanning the middle 80 % of a box (the first 17 of the 20 grid points)
GRID = np.stack(np.meshgrid(np.linspace(0.1, 0.9, 4), np.linspace(0.1, 0.9, 5)), -1).reshape(-1, 2)[:K]


class GridEstimator:
    """A stand-in pose model: in the box grown 1.25 times (the crop), the bright pixels are the person; keypoints on
    a grid over their extent, scored 0.9 (0 where the crop holds no bright pixel)."""

    kind = '2d'
    skeleton_links = [(0, 1), (1, 2)]

    def __init__(self):
        self.batches = []

    def __call__(self, image, boxes):
        self.batches.append(len(boxes))
        keypoints, scores = [], []
        for x1, y1, x2, y2 in np.asarray(boxes, np.float64):
            cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * 0.625, (y2 - y1) * 0.625
            left, top = int(max(cx - hw, 0)), int(max(cy - hh, 0))
            ys, xs = np.nonzero(image[top:int(cy + hh), left:int(cx + hw), 0] > 128)
            if len(xs) == 0:
                keypoints.append(np.tile([cx, cy], (K, 1)))
                scores.append(np.zeros(K))
                continue
            low = np.array([xs.min(), ys.min()]) + [left, top]
            high = np.array([xs.max(), ys.max()]) + [left + 1, top + 1]
            keypoints.append(low + GRID * (high - low))
            scores.append(np.full(K, 0.9))
        return dict(keypoints=np.asarray(keypoints, np.float32).reshape(-1, K, 2),
                    keypoint_scores=np.asarray(scores, np.float32).reshape(-1, K))


def _people(frame):
    """Two bright people walking towards each other, boxes (2, 4)."""
    return np.array([[10 + 4 * frame, 20, 40 + 4 * frame, 90], [150 - 4 * frame, 25, 180 - 4 * frame, 95]], float)


def _clip(tmp_path, n=12, gone=()):
    """A video of the two people (frames in ``gone``: black) and a detections file of their boxes."""
    writer = VideoFileWriter(str(tmp_path / 'clip.avi'), fps=10.0)
    lines = []
    for frame in range(n):
        image = np.zeros((120, 200, 3), np.uint8)
        if frame not in gone:
            for x1, y1, x2, y2 in _people(frame).astype(int):
                image[y1:y2, x1:x2] = 230
        writer.write(image)
        lines.append(json.dumps(dict(frame=frame, boxes=_people(frame).tolist())))
    writer.close()
    (tmp_path / 'det.jsonl').write_text('\n'.join(lines) + '\n')
    return str(tmp_path / 'clip.avi'), str(tmp_path / 'det.jsonl')


class CountingDetector:
    def __init__(self, path):
        self.detections, self.frames = DetectionsFile(path), []

    def __call__(self, frame):
        self.frames.append(frame.index)
        return self.detections(frame)


def test_video_out_has_every_frame_and_json_lines_parse_back_with_stable_ids(tmp_path):
    video, det = _clip(tmp_path)
    estimator = GridEstimator()
    summary = run_video(open_source(video), estimator, detector=DetectionsFile(det), tracker=PoseTracker(),
                        video_out=str(tmp_path / 'out.mp4'), json_out=str(tmp_path / 'out.jsonl'), progress=False)
    assert summary.frames == 12 and not summary.interrupted and summary.num_tracks == 2
    capture = cv2.VideoCapture(str(tmp_path / 'out.mp4'))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    records = [json.loads(line) for line in (tmp_path / 'out.jsonl').read_text().splitlines()]
    assert [r['frame'] for r in records] == list(range(12))
    assert records[5]['time'] == pytest.approx(0.5)
    assert estimator.batches == [2] * 12  # both people of a frame in one batch
    for record in records:
        ids = {tuple(np.round(p['bbox'][:2])): p['track_id'] for p in record['people']}
        first, second = _people(record['frame'])
        assert ids[tuple(first[:2])] == 0 and ids[tuple(second[:2])] == 1  # the people cross and keep their ids
        person = record['people'][0]
        assert set(person) == {'track_id', 'bbox', 'bbox_score', 'keypoints', 'keypoint_scores'}
        assert np.asarray(person['keypoints']).shape == (K, 2)


def test_pose_carried_boxes_call_the_detector_every_nth_frame_and_when_a_person_is_lost(tmp_path):
    video, det = _clip(tmp_path, n=12, gone={6})
    detector = CountingDetector(det)
    predictions = list(iterate_video(open_source(video), GridEstimator(), detector=detector,
                                     tracker=PoseTracker(max_missed=3), redetect_every=4))
    # 0, 4: every 4th frame; 6: the carried people are black (lost), dropped; 7: re-detected after the loss
    assert detector.frames == [0, 4, 7, 11]
    assert [len(p.people['bbox']) for p in predictions] == [2] * 6 + [0] + [2] * 5
    assert [p.detected for p in predictions] == [f in (0, 4, 7, 11) for f in range(12)]
    ids = [p.people['track_id'].tolist() for p in predictions]
    assert ids[5] == [0, 1] and ids[7] == [0, 1] and ids[11] == [0, 1]  # kept through the one-frame gap
    carried = predictions[1].people['bbox'][0]  # the grid's extent (80 % of the box) grown 1.2 times
    centre, size = _people(0)[0].reshape(2, 2).mean(0), np.array([30.0, 70.0]) * 0.8 * 1.2
    np.testing.assert_allclose(carried, np.r_[centre - size / 2, centre + size / 2], atol=1e-3)


def test_smoothing_per_track_starts_at_the_measurement_and_damps_jitter(tmp_path):
    video, det = _clip(tmp_path, n=10)

    class Jittery(GridEstimator):
        def __call__(self, image, boxes):
            out = super().__call__(image, boxes)
            self.sign = -getattr(self, 'sign', 1.0)
            out['keypoints'] = out['keypoints'] + self.sign * 3.0
            return out

    raw = list(iterate_video(open_source(video), Jittery(), detector=DetectionsFile(det), tracker=PoseTracker()))
    smooth = list(iterate_video(open_source(video), Jittery(), detector=DetectionsFile(det), tracker=PoseTracker(),
                                smoother=TrackSmoother(min_cutoff=1.0, beta=0.0)))
    np.testing.assert_array_equal(raw[0].people['keypoints'], smooth[0].people['keypoints'])

    def acceleration(predictions):
        x = np.stack([p.people['keypoints'][0] for p in predictions])
        return np.abs(x[2:] - 2 * x[1:-1] + x[:-2]).mean()
    assert acceleration(smooth) < 0.5 * acceleration(raw)


def test_ctrl_c_keeps_what_was_written(tmp_path):
    video, det = _clip(tmp_path)

    def stop(prediction):
        if prediction.frame.index == 3:
            raise KeyboardInterrupt

    summary = run_video(open_source(video), GridEstimator(), detector=DetectionsFile(det), tracker=PoseTracker(),
                        video_out=str(tmp_path / 'out.avi'), json_out=str(tmp_path / 'out.jsonl'), progress=False,
                        on_frame=stop)
    assert summary.interrupted and summary.frames == 4
    assert len((tmp_path / 'out.jsonl').read_text().splitlines()) == 4
    frames = list(open_source(str(tmp_path / 'out.avi')))
    assert len(frames) == 4 and frames[0].image.shape == (120, 200, 3)


def test_drawing_shows_only_keypoints_above_the_threshold(tmp_path):
    video, det = _clip(tmp_path, n=1)
    (prediction, ) = iterate_video(open_source(video), GridEstimator(), detector=DetectionsFile(det),
                                   tracker=PoseTracker())
    image = np.zeros_like(prediction.frame.image)
    boxes_only = draw_frame(image, GridEstimator(), prediction.people, kpt_thr=0.95)  # scores are 0.9
    with_keypoints = draw_frame(image, GridEstimator(), prediction.people, kpt_thr=0.5)
    assert (with_keypoints != boxes_only).any() and (boxes_only != image).any()


def test_refusals(tmp_path):
    video, det = _clip(tmp_path, n=2)
    with pytest.raises(ValueError, match='redetect_every must be >= 1, got 0'):
        next(iterate_video(open_source(video), GridEstimator(), detector=DetectionsFile(det), redetect_every=0))
    with pytest.raises(ValueError, match='need a tracker'):
        iterate_video(open_source(video), GridEstimator(), detector=DetectionsFile(det), redetect_every=3)
    with pytest.raises(ValueError, match='redetect_every must be >= 1'):  # refused before an output is created
        run_video(open_source(video), GridEstimator(), detector=DetectionsFile(det), tracker=PoseTracker(),
                  redetect_every=0, json_out=str(tmp_path / 'never.jsonl'), progress=False)
    assert not (tmp_path / 'never.jsonl').exists()
    (tmp_path / 'taken.jsonl').write_text('mine')
    with pytest.raises(FileExistsError, match='taken.jsonl exists'):
        run_video(open_source(video), GridEstimator(), detector=DetectionsFile(det),
                  json_out=str(tmp_path / 'taken.jsonl'))
    assert (tmp_path / 'taken.jsonl').read_text() == 'mine'
