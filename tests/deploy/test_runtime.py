"""The torch-free runtime: it imports without torch / mmcv / mmengine / mmpose, crops exactly as mmpose's
pipeline, and its keypoints on an image and person boxes equal ``inference_topdown``'s."""
import json
import os
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from conftest import REPO
from deploy_models import build_model

pytest.importorskip('onnxruntime')

#: Installed as sitecustomize in the child process: importing any of these fails as if it were not installed.
BLOCKER = textwrap.dedent('''
    import sys
    BLOCKED = ('torch', 'torchvision', 'mmcv', 'mmengine', 'mmpose', 'mmdet', 'pose_plugins')
    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in BLOCKED:
                raise ImportError(f'{name} is blocked in this test (torch-free runtime)')
            return None
    sys.meta_path.insert(0, Blocker())
''')


def _scene(seed: int = 0) -> np.ndarray:
    """A 240x320 BGR image: a textured background and two stick people (filled shapes and thick lines)."""
    rng = np.random.default_rng(seed)
    img = (rng.random((240, 320, 3)) * 80 + 60).astype(np.uint8)
    for x0 in (60, 200):
        cv2.circle(img, (x0, 50), 14, (40, 180, 220), -1)
        cv2.line(img, (x0, 64), (x0, 140), (200, 60, 60), 8)
        for dx in (-30, 30):
            cv2.line(img, (x0, 80), (x0 + dx, 120), (60, 200, 60), 6)
            cv2.line(img, (x0, 140), (x0 + dx // 2, 220), (60, 60, 200), 7)
    return img


BOXES = [[25.0, 30.0, 95.5, 228.0], [160.0, 28.0, 245.0, 230.0], [0.0, 0.0, 50.0, 20.0]]


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """The tiny HRNet (flip test, as its config) exported in crop pixels, so the runtime maps to the image."""
    from pose_plugins.deploy import export_onnx
    model = build_model('hrnet')
    folder = tmp_path_factory.mktemp('runtime')
    out = folder / 'hrnet.onnx'
    export_onnx(model, str(out), flip_test=True)
    cv2.imwrite(str(folder / 'scene.png'), _scene())
    return model, out, folder


def test_crops_equal_mmpose_pipeline(exported):
    from mmengine.dataset import Compose
    from pose_plugins_runtime import crop_boxes
    model, _, _ = exported
    img = _scene()
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline[1:])  # without LoadImage
    for box in BOXES:
        data = pipeline(dict(img=img.copy(), bbox=np.array([box]), bbox_score=np.ones(1), **model.dataset_meta))
        expected = model.data_preprocessor(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]))
        crops, center, scale = crop_boxes(img, np.array([box]), input_size=(96, 128), mean=[123.675, 116.28, 103.53],
                                          std=[58.395, 57.12, 57.375], bgr_to_rgb=True)
        np.testing.assert_array_equal(crops, expected['inputs'].numpy())  # same uint8 warp, same float32 ops
        np.testing.assert_array_equal(center[0], data['data_samples'].metainfo['input_center'])
        np.testing.assert_array_equal(scale[0], data['data_samples'].metainfo['input_scale'])


def test_runtime_without_torch_equals_inference_topdown(exported, tmp_path):
    from mmpose.apis import inference_topdown
    model, onnx_file, folder = exported
    blocker = tmp_path / 'blocker'
    blocker.mkdir()
    (blocker / 'sitecustomize.py').write_text(BLOCKER)
    drawn, predictions = tmp_path / 'drawn.png', tmp_path / 'predictions.json'
    env = dict(os.environ, PYTHONPATH=f'{blocker}{os.pathsep}{REPO}', OMP_NUM_THREADS='1')
    probe = subprocess.run([sys.executable, '-c', 'import torch'], env=env, capture_output=True, text=True)
    assert probe.returncode != 0 and 'blocked' in probe.stderr  # the blocker works
    out = subprocess.run([sys.executable, '-m', 'pose_plugins_runtime', str(onnx_file), str(folder / 'scene.png'),
                          '--boxes', json.dumps(BOXES), '--out', str(drawn), '--json', str(predictions),
                          '--kpt-thr', '-1'],  # draw every keypoint (a random model's scores are low)
                         env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count('person ') == len(BOXES)
    people = json.loads(predictions.read_text())

    results = inference_topdown(model, str(folder / 'scene.png'), np.array(BOXES))
    assert len(people) == len(results) == len(BOXES)
    for person, result in zip(people, results):
        # 1e-3 px: the same crops (test above) and the same decoding in the graph (test_onnx_export: 0 px);
        # only the float32 / float64 rounding of the crop -> image mapping differs (|x| < 320: ulp 3e-5 px)
        np.testing.assert_allclose(person['keypoints'], result.pred_instances.keypoints[0], rtol=0, atol=1e-3)
        np.testing.assert_allclose(person['keypoint_scores'], result.pred_instances.keypoint_scores[0], rtol=1e-4,
                                   atol=1e-5)
    error = max(np.abs(np.array(p['keypoints']) - r.pred_instances.keypoints[0]).max() for p, r in zip(people, results))
    print(f'runtime (no torch) vs inference_topdown: max {error:.2e} px')
    drawing = cv2.imread(str(drawn))
    assert drawing.shape == (240, 320, 3) and (drawing != _scene()).any()

    again = subprocess.run([sys.executable, '-m', 'pose_plugins_runtime', str(onnx_file), str(folder / 'scene.png'),
                            '--out', str(drawn)], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and 'exists' in again.stderr  # never overwrites


def test_bad_input_is_refused_by_name(exported):
    from pose_plugins_runtime import PoseSession
    session = PoseSession(str(exported[1]))
    with pytest.raises(ValueError, match=r'image must be an \(H, W, 3\) uint8 BGR array, got shape \(4, 4\)'):
        session(np.zeros((4, 4), np.uint8), BOXES)
    with pytest.raises(ValueError, match='x2 > x1 and y2 > y1'):
        session(_scene(), [[10, 10, 5, 20]])
    keypoints, scores = session(_scene(), [])
    assert keypoints.shape == (0, 17, 2) and scores.shape == (0, 17)


def test_runtime_on_a_video_without_torch_tracks_and_writes_every_frame(exported, tmp_path):
    """``python -m pose_plugins_runtime model.onnx clip.avi``: boxes per frame from a detections file, tracked, drawn
    video and JSON lines with as many frames as the clip, keypoints equal to the runtime's on each frame alone."""
    from pose_plugins_runtime import PoseSession
    _, onnx_file, _ = exported
    blocker = tmp_path / 'blocker'
    blocker.mkdir()
    (blocker / 'sitecustomize.py').write_text(BLOCKER)
    frames = [np.roll(_scene(), 3 * i, axis=1) for i in range(6)]  # the people walk 3 px a frame
    writer = cv2.VideoWriter(str(tmp_path / 'clip.avi'), cv2.VideoWriter_fourcc(*'MJPG'), 10.0, (320, 240))
    for frame in frames:
        writer.write(frame)
    writer.release()
    boxes = [[[25.0 + 3 * i, 30.0, 95.5 + 3 * i, 228.0], [160.0 + 3 * i, 28.0, 245.0 + 3 * i, 230.0]] for i in range(6)]
    (tmp_path / 'det.jsonl').write_text(''.join(json.dumps(dict(frame=i, boxes=b)) + '\n' for i, b in enumerate(boxes)))
    env = dict(os.environ, PYTHONPATH=f'{blocker}{os.pathsep}{REPO}', OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, '-m', 'pose_plugins_runtime', str(onnx_file), str(tmp_path / 'clip.avi'),
                          '--det-file', str(tmp_path / 'det.jsonl'), '--out', str(tmp_path / 'drawn.mp4'),
                          '--json', str(tmp_path / 'poses.jsonl'), '--no-progress'],
                         env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert '6 frames in' in out.stdout and '2 track(s)' in out.stdout
    records = [json.loads(line) for line in (tmp_path / 'poses.jsonl').read_text().splitlines()]
    assert [r['frame'] for r in records] == list(range(6))
    assert [[p['track_id'] for p in r['people']] for r in records] == [[0, 1]] * 6
    assert int(cv2.VideoCapture(str(tmp_path / 'drawn.mp4')).get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    session = PoseSession(str(onnx_file))
    decoded = cv2.VideoCapture(str(tmp_path / 'clip.avi'))
    ok, first = decoded.read()
    keypoints, _ = session(first, boxes[0])
    np.testing.assert_allclose([p['keypoints'] for p in records[0]['people']], keypoints, atol=0.01)  # JSON: 0.01 px
