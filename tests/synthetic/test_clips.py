"""Synthetic clips: determinism, video vs ground truth, smooth tracks, a crossing with covered keypoints, the
stand-in detections, refusals, and the tool."""
import dataclasses
import json
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose_plugins.apis.make_synthetic_clip import main as make_synthetic_clip_main
from pose_plugins.synthetic import COCO_KEYPOINT_NAMES, SyntheticClipConfig, SyntheticCocoConfig, make_synthetic_clip

# 12 frames of 128x128 keep each clip at a fraction of a second; everyone turns, to test turns too.
SMALL = SyntheticClipConfig(num_frames=12, turn_prob=1.0, occluder_prob=0.5,
                            people=SyntheticCocoConfig(image_size=(128, 128), person_height=(48.0, 100.0)))
# Only people cover people: no turns (back views label the face covered), no occluders.
CROSSING = dataclasses.replace(SMALL, turn_prob=0.0, occluder_prob=0.0)
HIPS = [11, 12]


def _load(path: str) -> dict:
    return json.loads(Path(path).read_text())


def _frames(video: str) -> list:
    capture, frames = cv2.VideoCapture(video), []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


def _tracks(truth: dict) -> dict:
    """track id -> {frame: person}."""
    tracks: dict = {}
    for frame in truth['frames']:
        for person in frame['people']:
            tracks.setdefault(person['track_id'], {})[frame['frame']] = person
    return tracks


@pytest.fixture(scope='module')
def clip(tmp_path_factory) -> dict:
    return make_synthetic_clip(tmp_path_factory.mktemp('clip') / 'clip.mp4', cfg=SMALL, seed=0)


def test_same_seed_gives_the_same_clip(clip, tmp_path):
    again = make_synthetic_clip(tmp_path / 'again.mp4', cfg=SMALL, seed=0)
    other = make_synthetic_clip(tmp_path / 'other.mp4', cfg=SMALL, seed=1)
    for key in ('tracks', 'detections'):
        assert Path(clip[key]).read_bytes() == Path(again[key]).read_bytes(), key
    assert _load(clip['tracks'])['frames'] != _load(other['tracks'])['frames']
    for first, second in zip(_frames(clip['video']), _frames(again['video'])):
        np.testing.assert_array_equal(first, second)


def test_video_and_ground_truth_agree(clip):
    truth = _load(clip['tracks'])
    frames = _frames(clip['video'])
    assert len(frames) == SMALL.num_frames == truth['num_frames'] == len(truth['frames']) == clip['num_frames']
    assert frames[0].shape == (128, 128, 3)
    assert (truth['width'], truth['height'], truth['fps']) == (128, 128, 25.0)
    assert truth['keypoint_names'] == list(COCO_KEYPOINT_NAMES)
    assert [f['frame'] for f in truth['frames']] == list(range(SMALL.num_frames))
    assert clip['num_instances'] == sum(len(f['people']) for f in truth['frames'])
    assert {p['track_id'] for f in truth['frames'] for p in f['people']} == set(range(1, SMALL.num_people + 1))


def test_visibility_zero_exactly_outside_the_image(clip):
    for frame in _load(clip['tracks'])['frames']:
        for person in frame['people']:
            xy, visibility = np.asarray(person['keypoints']), np.asarray(person['visibility'])
            assert xy.shape == (17, 2) and set(visibility.tolist()) <= {0, 1, 2}
            inside = np.all((xy >= 0) & (xy <= 127), axis=1)
            near_edge = np.any((np.abs(xy) < 0.01) | (np.abs(xy - 127) < 0.01), axis=1)  # 2-decimal rounding
            assert np.array_equal((visibility > 0)[~near_edge], inside[~near_edge])
            x1, y1, x2, y2 = person['bbox']
            assert x2 > 0 and y2 > 0 and x1 < 128 and y1 < 128  # listed: the amodal box meets the image


def test_tracks_move_smoothly(clip):
    """Between frames a joint moves with the body (speed * h / fps) plus its swing: every limb segment's direction
    turns by <= swing * d(phase), d(phase) = 2 pi * speed / (stride * fps), and a joint is <= 0.47 h (hip to ankle,
    the longest limb) from its limb root. A turn mirrors the person (left <-> right): there the hips' centre only."""
    height, speed = SMALL.people.person_height[1], SMALL.speed[1]
    walk = height * speed / SMALL.fps
    swing = 0.47 * height * math.radians(SMALL.swing) * 2 * math.pi * speed / (SMALL.stride * SMALL.fps)
    rounding = 0.02  # coordinates written with 2 decimals
    turns = moves = 0
    for track in _tracks(_load(clip['tracks'])).values():
        for frame, person in track.items():
            if frame + 1 not in track:
                continue
            now, after = np.asarray(person['keypoints']), np.asarray(track[frame + 1]['keypoints'])
            hips = np.linalg.norm(after[HIPS].mean(0) - now[HIPS].mean(0))
            assert hips <= walk + rounding
            if person['back_facing'] != track[frame + 1]['back_facing']:
                turns += 1
                continue
            moves += 1
            assert np.linalg.norm(after - now, axis=1).max() <= walk + swing + rounding
    assert turns >= 1 and moves >= 20


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_two_people_cross_and_cover_each_other(tmp_path, seed):
    truth = _load(make_synthetic_clip(tmp_path / 'c.mp4', cfg=CROSSING, seed=seed)['tracks'])
    tracks = _tracks(truth)
    crossings = []
    for a in tracks:
        for b in tracks:
            common = sorted(set(tracks[a]) & set(tracks[b]))
            if a >= b or not common:
                continue
            side = [np.sign(np.mean(np.asarray(tracks[a][f]['keypoints'])[HIPS, 0])
                            - np.mean(np.asarray(tracks[b][f]['keypoints'])[HIPS, 0])) for f in common]
            covered = [f for f in common if _overlap(tracks[a][f]['bbox'], tracks[b][f]['bbox'])
                       and 1 in tracks[a][f]['visibility'] + tracks[b][f]['visibility']]
            if side[0] * side[-1] < 0 and covered:
                crossings.append((a, b))
    assert crossings


def _overlap(first: list, second: list) -> bool:
    return min(first[2], second[2]) > max(first[0], second[0]) and min(first[3], second[3]) > max(first[1], second[1])


def test_detections_are_the_boxes_of_people_with_three_visible_keypoints(clip):
    lines = Path(clip['detections']).read_text().splitlines()
    truth = _load(clip['tracks'])
    assert len(lines) == SMALL.num_frames
    for line, frame in zip(lines, truth['frames']):
        detections = json.loads(line)
        expected = [p['bbox'] + [1.0] for p in frame['people'] if p['visibility'].count(2) >= 3]
        assert detections == {'frame': frame['frame'], 'boxes': expected}
    assert clip['num_detections'] == sum(len(json.loads(line)['boxes']) for line in lines) > 0


def test_refuses_existing_outputs(tmp_path):
    mine = tmp_path / 'clip.mp4'
    mine.write_bytes(b'mine')
    with pytest.raises(FileExistsError, match=re.escape(str(mine))):
        make_synthetic_clip(mine, cfg=SMALL)
    assert mine.read_bytes() == b'mine' and sorted(p.name for p in tmp_path.iterdir()) == ['clip.mp4']
    tracks = tmp_path / 'other_tracks.json'
    tracks.write_text('{}')
    with pytest.raises(FileExistsError, match=re.escape(str(tracks))):
        make_synthetic_clip(tmp_path / 'other.mp4', cfg=SMALL)
    assert tracks.read_text() == '{}' and not (tmp_path / 'other.mp4').exists()


@pytest.mark.parametrize('path, seed, message', [
    pytest.param('clip.gif', 0, r"out_video must end in \.mp4 or \.avi, got '\S*clip\.gif'", id='suffix'),
    pytest.param('clip.mp4', -1, r'seed must be a non-negative int, got -1', id='negative seed'),
])
def test_refuses_bad_arguments(tmp_path, path, seed, message):
    with pytest.raises(ValueError, match=message):
        make_synthetic_clip(tmp_path / path, cfg=SMALL, seed=seed)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize('options, message', [
    pytest.param(dict(num_frames=1), r'num_frames must be an int >= 2, got 1', id='num_frames'),
    pytest.param(dict(fps=0.0), r'fps must be in \(0, 1000\], got 0\.0', id='fps'),
    pytest.param(dict(num_people=0), r'num_people must be an int in \[1, 254\], got 0', id='num_people'),
    pytest.param(dict(speed=(0.8, 0.3)), r'speed must be \(min, max\).*got \(0\.8, 0\.3\)', id='speed'),
    pytest.param(dict(swing=90.0), r'swing must be in \[0, 45\] degrees, got 90\.0', id='swing'),
    pytest.param(dict(turn_prob=1.5), r'turn_prob must be a probability in \[0, 1\], got 1\.5', id='turn_prob'),
    pytest.param(dict(num_people=1), r'crossing=True needs num_people >= 2, got num_people=1', id='crossing'),
    pytest.param(dict(people=SyntheticCocoConfig(with_3d=True)), r'people\.with_3d must be False', id='3d people'),
])
def test_config_refuses_bad_options(options, message):
    with pytest.raises(ValueError, match=r'SyntheticClipConfig\.' + message):
        SyntheticClipConfig(**options)


def test_tool_writes_the_clip_and_a_contact_sheet(tmp_path, capsys):
    out, sheet = tmp_path / 'tool.mp4', tmp_path / 'sheet.jpg'
    result = make_synthetic_clip_main([str(out), '--frames', '6', '--people', '2', '--seed', '1',
                                       '--contact-sheet', str(sheet)])
    printed = capsys.readouterr().out
    for key in ('video', 'tracks', 'detections', 'contact_sheet'):
        assert Path(result[key]).is_file() and result[key] in printed, key
    assert _load(result['tracks'])['num_frames'] == 6 and result['num_tracks'] == 2
    assert cv2.imread(str(sheet)).shape == (256, 4 * 256, 3)
    with pytest.raises(FileExistsError, match=re.escape(str(sheet))):
        make_synthetic_clip_main([str(tmp_path / 'new.mp4'), '--contact-sheet', str(sheet)])
