"""Every config of ours works for inference: ``init_model`` + ``inference_topdown`` (given boxes, and the whole
image), and ``pose_plugins.inference.run_inference`` (keypoint models: mmpose's ``MMPoseInferencer(pose2d=CONFIG,
pose2d_weights=CKPT)``, given the boxes; mesh models: the meshes drawn), writing a drawing and JSON: with a checkpoint
saved from the config's random initialisation for every architecture's CPU demo config, with the config's own
initialisation (``pose2d_weights=None``, no 25 M - 68 M checkpoint written and read back) for the full-size
configs, which are slow (the model built, one crop, flip test)."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import REPO

CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)
BOXES = [[40.0, 20.0, 130.0, 230.0]]


def _case(config: Path):
    name = str(config.relative_to(REPO / 'configs'))
    marks = () if config.parent.name == 'demo' else (pytest.mark.slow, )
    return pytest.param(config, id=name, marks=marks)


@pytest.fixture(scope='module')
def scene(tmp_path_factory) -> Path:
    """A 240x180 BGR image with one stick figure inside :data:`BOXES`."""
    img = np.full((240, 180, 3), 90, np.uint8)
    cv2.circle(img, (85, 45), 14, (40, 180, 220), -1)
    cv2.line(img, (85, 60), (85, 140), (200, 60, 60), 8)
    cv2.line(img, (85, 140), (65, 220), (60, 60, 200), 7)
    cv2.line(img, (85, 140), (105, 220), (60, 60, 200), 7)
    path = tmp_path_factory.mktemp('scene') / 'person.png'
    cv2.imwrite(str(path), img)
    return path


@pytest.fixture(scope='module')
def smpl_file(tmp_path_factory) -> str:
    """A stand-in for the user's SMPL file that a full-size mesh config names: the synthetic mannequin's."""
    from pose_plugins.synthetic import write_synthetic_smpl
    return str(write_synthetic_smpl(tmp_path_factory.mktemp('smpl') / 'SMPL_NEUTRAL.npz'))


def _config(config: Path, smpl_file: str):
    """The config's path, or, where it names an SMPL file, the loaded config with ``smpl_file`` in its place."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(config))
    body_model = cfg.model.head.get('body_model')
    if body_model is None or not body_model.get('model_path'):
        return str(config)
    cfg.merge_from_dict({'model.head.body_model.model_path': smpl_file})
    for step in cfg.test_dataloader.dataset.pipeline:
        if step.get('body_model', {}).get('model_path'):
            step['body_model']['model_path'] = smpl_file
    return cfg


def test_every_config_is_covered():
    names = {str(c.relative_to(REPO / 'configs')) for c in CONFIGS}
    assert {'hrnet_w32_coco.py', 'integral3d_res50_256x256.py', 'demo/cpn_tiny_synthetic.py'} <= names
    assert len(CONFIGS) >= 16


@pytest.mark.parametrize('config', [_case(c) for c in CONFIGS])
def test_init_model_and_inference_topdown(config, scene, smpl_file):
    from mmpose.apis import inference_topdown, init_model
    model = init_model(_config(config, smpl_file), None, device='cpu')
    results = inference_topdown(model, str(scene), np.array(BOXES))
    keypoints = results[0].pred_instances.keypoints
    dims = keypoints.shape[-1]
    assert len(results) == 1 and keypoints.shape == (1, 17, dims) and dims in (2, 3)
    assert np.isfinite(keypoints).all()
    (whole, ) = inference_topdown(model, str(scene))  # no boxes: the whole image is the person box
    np.testing.assert_array_equal(whole.pred_instances.bboxes, [[0, 0, 180, 240]])


@pytest.mark.parametrize('config', [_case(c) for c in CONFIGS])
def test_inferencer_runs_the_config(config, scene, tmp_path, smpl_file):
    from mmpose.apis import init_model
    from pose_plugins.inference import run_inference
    checkpoint = None
    if config.parent.name == 'demo':  # the checkpoint-loading path, once per architecture
        checkpoint = str(tmp_path / 'random_init.pth')
        torch.save(dict(state_dict=init_model(str(config), None, device='cpu').state_dict()), checkpoint)
    out_dir = tmp_path / 'infer'
    (result, ) = run_inference(_config(config, smpl_file), checkpoint, str(scene), str(out_dir),
                               boxes={scene.name: BOXES})
    (person, ) = result['people']
    assert result['image'] == str(scene) and len(person['keypoints']) == 17
    assert (out_dir / 'visualizations' / scene.name).stat().st_size > 1000
    if result['kind'] == 'mesh':  # the meshes drawn; the people beside the drawing
        sizes = (78, 6) if 'anny' in config.name else (72, 10)  # Anny's 26 posed bones and 6 phenotypes; SMPL's
        assert (len(person['body_pose']), len(person['body_shape'])) == sizes and person['bbox'] == BOXES[0]
        (saved, ) = json.loads((out_dir / 'visualizations' / f'{scene.stem}_predictions.json').read_text())['people']
        assert not (out_dir / 'predictions').exists()
    else:  # mmpose's drawing and JSON
        assert len(person['keypoint_scores']) == 17
        (saved, ) = json.loads((out_dir / 'predictions' / f'{scene.stem}.json').read_text())
    np.testing.assert_allclose(np.array(saved['keypoints'])[:, :2], np.array(person['keypoints'])[:, :2], atol=1e-3)
