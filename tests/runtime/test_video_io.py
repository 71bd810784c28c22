"""Frame sources, box providers and writers of pose on video (numpy + OpenCV; no model)."""
import json
import warnings

import cv2
import numpy as np
import pytest

from pose_plugins_runtime.video.boxes import DetectionsFile, WholeImage, boxes_from_keypoints, check_boxes
from pose_plugins_runtime.video.sources import Frame, is_video_input, open_source
from pose_plugins_runtime.video.writers import JsonLinesWriter, VideoFileWriter


def _write_video(path, frames, fps=10.0):
    writer = VideoFileWriter(str(path), fps=fps)
    for image in frames:
        writer.write(image)
    writer.close()
    return writer


def _frames(n, size=(48, 64)):
    rng = np.random.default_rng(0)
    return [np.full((*size, 3), 20 * i, np.uint8) + rng.integers(0, 5, (*size, 3), dtype=np.uint8)
            for i in range(n)]


class FakeCapture:
    """A cv2.VideoCapture stand-in whose ``read`` fails at the given positions."""

    def __init__(self, frames, failing=(), opened=True, fps=30.0):
        self.frames, self.failing, self.opened, self.fps, self.position = frames, set(failing), opened, fps, 0
        self.released = False

    def isOpened(self):  # noqa: N802  (OpenCV's name)
        return self.opened

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_FRAME_COUNT: len(self.frames)}.get(prop, 0)

    def read(self):
        position, self.position = self.position, self.position + 1
        if position >= len(self.frames) or position in self.failing:
            return False, None
        return True, self.frames[position]

    def release(self):
        self.released = True


def test_video_round_trip_keeps_every_frame_and_the_rate(tmp_path):
    _write_video(tmp_path / 'clip.avi', _frames(7), fps=12.0)
    source = open_source(str(tmp_path / 'clip.avi'))
    frames = list(source)
    assert [f.index for f in frames] == list(range(7)) and source.num_frames == 7 and source.fps == 12.0
    assert frames[3].time == pytest.approx(3 / 12.0) and frames[0].image.shape == (48, 64, 3)
    # MJPG is lossy: the grey level of each frame survives within a few levels
    assert [int(round(f.image.mean() / 20)) for f in frames] == list(range(7))


def test_a_frame_failing_to_decode_mid_stream_is_skipped_with_a_warning_and_counted(tmp_path):
    path = tmp_path / 'clip.mp4'
    path.write_bytes(b'not really')
    capture = FakeCapture(_frames(6), failing={2, 4})
    source = open_source(str(path), capture_factory=lambda _: capture)
    with pytest.warns(RuntimeWarning, match=r'clip.mp4: frame 2 skipped \(failed to decode\)'):
        indices = [f.index for f in source]
    assert indices == [0, 1, 3, 5] and source.skipped == [2, 4] and capture.released


def test_a_broken_tail_ends_the_stream(tmp_path):
    path = tmp_path / 'clip.mp4'
    path.write_bytes(b'x')
    capture = FakeCapture(_frames(3) + [None] * 40, failing=range(3, 43))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        frames = list(open_source(str(path), capture_factory=lambda _: capture))
    assert len(frames) == 3


def test_image_folder_as_frames_skips_an_unreadable_image(tmp_path):
    for i, image in enumerate(_frames(3)):
        cv2.imwrite(str(tmp_path / f'{i:03d}.png'), image)
    (tmp_path / '001.png').write_bytes(b'broken')
    source = open_source(str(tmp_path), default_fps=5.0)
    with pytest.warns(RuntimeWarning, match=r'frame 1 skipped \(.*001.png is not a readable image\)'):
        frames = list(source)
    assert [(f.index, f.name, f.time) for f in frames] == [(0, '000.png', 0.0), (2, '002.png', 0.4)]
    assert source.skipped == [1]


def test_refusals_name_the_input(tmp_path):
    with pytest.raises(FileNotFoundError, match='input .*missing.mp4 is neither'):
        open_source(str(tmp_path / 'missing.mp4'))
    (tmp_path / 'text.mp4').write_text('hello')
    with pytest.raises(ValueError, match='cannot open video .*text.mp4'):
        open_source(str(tmp_path / 'text.mp4'))
    with pytest.raises(ValueError, match='camera 7 does not exist'):
        open_source('7', capture_factory=lambda _: FakeCapture([], opened=False))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no images'):
        open_source(str(tmp_path / 'empty'))
    assert is_video_input('0') and is_video_input('a/b.MP4') and not is_video_input('a.jpg')


def test_writers_never_overwrite_and_json_lines_parse_back(tmp_path):
    path = tmp_path / 'out.jsonl'
    writer = JsonLinesWriter(str(path))
    writer.write(dict(frame=0, people=[dict(keypoints=np.arange(4.0).reshape(2, 2), track_id=np.int64(3))]))
    writer.write(dict(frame=1, people=[]))
    writer.close()
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        dict(frame=0, people=[dict(keypoints=[[0.0, 1.0], [2.0, 3.0]], track_id=3)]), dict(frame=1, people=[])]
    with pytest.raises(FileExistsError, match='out.jsonl exists'):
        JsonLinesWriter(str(path))
    (tmp_path / 'v.mp4').write_bytes(b'mine')
    with pytest.raises(FileExistsError, match='v.mp4 exists'):
        VideoFileWriter(str(tmp_path / 'v.mp4'), fps=25)
    assert (tmp_path / 'v.mp4').read_bytes() == b'mine'
    with pytest.raises(ValueError, match=r"suffix must be one of .*got '.gif'"):
        VideoFileWriter(str(tmp_path / 'v.gif'), fps=25)


def test_detections_file_boxes_per_frame_and_its_refusals(tmp_path):
    path = tmp_path / 'det.jsonl'
    path.write_text('{"frame": 0, "boxes": [[1, 2, 11, 22], [5, 5, 6, 7, 0.5]]}\n\n{"frame": 2, "boxes": []}\n')
    detections = DetectionsFile(str(path))
    frame = Frame(0, 0.0, np.zeros((4, 4, 3), np.uint8), 'f')
    np.testing.assert_array_equal(detections(frame), [[1, 2, 11, 22, 1], [5, 5, 6, 7, 0.5]])
    assert detections(Frame(1, 0.1, frame.image, 'f')).shape == (0, 5)
    for text, message in [('{"frame": 0}\n', r"det.jsonl, line 1: field 'boxes' is missing"),
                          ('{"frame": 0, "boxes": []}\n{"frame": 0, "boxes": []}\n',
                           r'line 2: frame 0 again \(first on line 1\)'),
                          ('nope\n', 'det.jsonl, line 1: not JSON'),
                          ('{"frame": -1, "boxes": []}\n', r"line 1: 'frame' must be an int >= 0, got -1"),
                          ('{"frame": 3, "boxes": [[5, 5, 4, 9]]}\n', r'line 1: boxes must be finite with x2 > x1')]:
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            DetectionsFile(str(path))
    with pytest.raises(ValueError, match=r'here: boxes must be \[x1, y1, x2, y2\(, score\)\] per box'):
        check_boxes([1, 2, 3, 4], 'here')
    np.testing.assert_array_equal(WholeImage()(Frame(0, 0.0, np.zeros((30, 40, 3), np.uint8), 'f')),
                                  [[0, 0, 40, 30, 1]])


def test_boxes_from_keypoints_by_hand():
    keypoints = np.array([[[10.0, 20.0], [30.0, 60.0], [20.0, 40.0], [500.0, 500.0]]])
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])  # the last is ignored
    # centre (20, 40), half size (10, 20) * 1.5
    np.testing.assert_allclose(boxes_from_keypoints(keypoints, scores, padding=1.5), [[5.0, 10.0, 35.0, 70.0]])
    assert np.isnan(boxes_from_keypoints(keypoints, scores, min_keypoints=4)).all()
