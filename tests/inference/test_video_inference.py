"""Pose on video with a config: the model as a batched estimator (equal to mmpose's ``inference_topdown``), an
mmdet detector as the box source, and ``tools/infer.py`` on a short synthetic clip end to end."""
import json

import cv2
import numpy as np
import pytest

from conftest import REPO, randomize_norms
from pose_plugins.apis import infer
from pose_plugins.synthetic import SyntheticClipConfig, make_synthetic_clip
from pose_plugins.video_inference import MMDetDetector, TopDownEstimator, run_video_inference
from pose_plugins_runtime.video.sources import Frame

DEMO = REPO / 'configs' / 'demo'
BOXES = np.array([[40.0, 20.0, 130.0, 230.0], [10.0, 5.0, 90.5, 200.25], [100.0, 60.0, 170.0, 200.0]])


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """A 10-frame synthetic clip of people walking, with its ground truth and detections files."""
    folder = tmp_path_factory.mktemp('clip')
    return make_synthetic_clip(str(folder / 'walk.mp4'), cfg=SyntheticClipConfig(num_frames=10), seed=3)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Random weights of the README demo's config, as a checkpoint file."""
    import torch
    model = TopDownEstimator.from_config(str(DEMO / 'hrnet_tiny_synthetic.py'), None).model
    path = tmp_path_factory.mktemp('weights') / 'random_init.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


@pytest.fixture(scope='module')
def frame_image(clip):
    capture = cv2.VideoCapture(clip['video'])
    ok, image = capture.read()
    capture.release()
    assert ok
    return image


@pytest.mark.parametrize('config', ['hrnet_tiny_synthetic.py', 'integral3d_tiny_synthetic.py',
                                    'hrnet_smpl_tiny_synthetic.py'])
def test_estimator_equals_mmpose_inference_topdown_on_the_same_boxes(config, frame_image):
    from mmpose.apis import inference_topdown
    model = TopDownEstimator.from_config(str(DEMO / config), None, fast=False).model
    randomize_norms(model, seed=0)  # away from init's near-constant outputs
    exact, fast = TopDownEstimator(model, fast=False), TopDownEstimator(model)
    assert exact.runner is model and fast.runner is not model  # batch norms folded: the check passed
    theirs = inference_topdown(model, frame_image, BOXES.astype(np.float32), bbox_format='xyxy')
    for estimator, atol in ((exact, 1e-3), (fast, 0.05)):
        ours = estimator(frame_image, BOXES)
        want = np.concatenate([s.pred_instances.keypoints for s in theirs])
        # exact: the same crops (the runtime's preprocessing is bit-identical to mmpose's pipeline) in the same batch
        # through the same model, up to float32 rounding of the crop -> image mapping (1e-3 px). fast: folded batch
        # norms re-associate float32 sums (head outputs within 1e-4 of their scale, checked at construction); the
        # sub-pixel refinement moves with them, by far less than 0.05 px at this crop scale.
        np.testing.assert_allclose(ours['keypoints'], want, atol=atol)
        np.testing.assert_allclose(ours['keypoint_scores'],
                                   np.concatenate([s.pred_instances.keypoint_scores for s in theirs]), atol=1e-3)
        assert ours['keypoints'].shape == (3, 17, 3 if estimator.kind == '3d' else 2)
        if estimator.kind == 'mesh':
            np.testing.assert_allclose(ours['body_pose'],
                                       np.concatenate([s.pred_instances.body_pose for s in theirs]), atol=1e-3)
            drawn = estimator.draw(frame_image, dict(ours, bbox=BOXES), [(255, 0, 0)] * 3)
            assert drawn.shape == frame_image.shape and (drawn != frame_image).any()


def test_a_fast_copy_that_computes_otherwise_is_not_used(monkeypatch):
    import mmcv.cnn
    from torch import nn

    def wrong_fusion(model):
        model.backbone.conv1 = nn.Conv2d(3, model.backbone.conv1.out_channels, 3, 2, 1)  # other weights
        return model
    monkeypatch.setattr(mmcv.cnn, 'fuse_conv_bn', wrong_fusion)
    estimator = TopDownEstimator.from_config(str(DEMO / 'hrnet_tiny_synthetic.py'), None)
    assert estimator.runner is estimator.model


def test_mmdet_detector_from_a_config_runs_on_frames(tmp_path, frame_image):
    """A randomly initialised RTMDet-tiny (mmdet's own config, no weights): the code path runs end to end."""
    import mmdet
    base = f'{mmdet.__path__[0]}/.mim/configs/rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
    config = tmp_path / 'detector.py'
    config.write_text(f"_base_ = ['{base}']\nmodel = dict(backbone=dict(init_cfg=None))\n")
    detector = MMDetDetector(str(config), None, score_thr=0.0)
    boxes = detector(Frame(0, 0.0, frame_image, 'f'))
    assert boxes.ndim == 2 and boxes.shape[1] == 5 and np.isfinite(boxes).all()
    with pytest.raises(ValueError, match=r'score_thr must be in \[0, 1\), got 1.5'):
        MMDetDetector(str(config), None, score_thr=1.5)


def test_infer_tool_on_a_clip_writes_every_frame_with_tracks(clip, checkpoint, tmp_path, capsys):
    out = tmp_path / 'out'
    status = infer.main([str(DEMO / 'hrnet_tiny_synthetic.py'), checkpoint, clip['video'], '--out-dir', str(out),
                         '--det-file', clip['detections'], '--redetect-every', '3', '--smooth', '--no-progress'])
    assert status == 0
    printed = capsys.readouterr().out
    assert '10 frames in' in printed and 'walk.mp4' in printed
    capture = cv2.VideoCapture(str(out / 'walk.mp4'))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    records = [json.loads(line) for line in (out / 'walk.jsonl').read_text().splitlines()]
    assert [r['frame'] for r in records] == list(range(10))
    assert records[0]['detected'] and all(p['track_id'] is not None for r in records for p in r['people'])
    with open(clip['detections']) as f:
        first = json.loads(f.readline())
    assert len(records[0]['people']) == len(first['boxes'])
    # refused before any work: the outputs exist now
    with pytest.raises(FileExistsError, match='walk.mp4 exists'):
        infer.main([str(DEMO / 'hrnet_tiny_synthetic.py'), checkpoint, clip['video'], '--out-dir', str(out)])


def test_mesh_model_on_a_clip_draws_meshes_and_writes_parameters(clip, tmp_path):
    summary = run_video_inference(str(DEMO / 'hrnet_smpl_tiny_synthetic.py'), None, clip['video'],
                                  video_out=str(tmp_path / 'mesh.mp4'), json_out=str(tmp_path / 'mesh.jsonl'),
                                  det_file=clip['detections'], smooth=True, max_frames=3, progress=False)
    assert summary.frames == 3
    record = json.loads((tmp_path / 'mesh.jsonl').read_text().splitlines()[0])
    person = record['people'][0]
    assert len(person['body_pose']) == 72 and len(person['body_shape']) == 10 and len(person['camera']) == 3
    assert int(cv2.VideoCapture(str(tmp_path / 'mesh.mp4')).get(cv2.CAP_PROP_FRAME_COUNT)) == 3


def test_video_refusals_name_the_input(tmp_path, clip, checkpoint):
    (tmp_path / 'broken.mp4').write_text('not a video')
    with pytest.raises(ValueError, match='cannot open video .*broken.mp4'):
        run_video_inference(str(DEMO / 'hrnet_tiny_synthetic.py'), None, str(tmp_path / 'broken.mp4'))
    with pytest.raises(ValueError, match='either det_file or det_config'):
        run_video_inference(str(DEMO / 'hrnet_tiny_synthetic.py'), None, clip['video'], det_file='a', det_config='b')
    with pytest.raises(SystemExit):
        infer.main([str(DEMO / 'hrnet_tiny_synthetic.py'), checkpoint, clip['video'], '--bboxes', '[[0, 0, 5, 5]]'])
