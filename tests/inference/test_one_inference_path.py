"""``pose_plugins.inference.run_inference`` serves 2D, 3D and mesh models: what it draws and writes follows what the
model predicts (``output_kind``), nothing is overwritten, and without output folders it only returns the people."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import REPO
from pose_plugins.cli import load_config
from pose_plugins.inference import output_kind, run_inference

DEMO = REPO / 'configs' / 'demo'
BOXES = [[40.0, 20.0, 130.0, 230.0], [10.0, 5.0, 90.5, 200.25]]


@pytest.fixture(scope='module')
def scene(tmp_path_factory) -> Path:
    """A 240x180 BGR image with one stick figure."""
    img = np.full((240, 180, 3), 90, np.uint8)
    cv2.circle(img, (85, 45), 14, (40, 180, 220), -1)
    cv2.line(img, (85, 60), (85, 140), (200, 60, 60), 8)
    path = tmp_path_factory.mktemp('scene') / 'person.png'
    cv2.imwrite(str(path), img)
    return path


@pytest.mark.parametrize('config,kind', [
    ('hrnet_tiny_synthetic.py', '2d'), ('cpn_tiny_synthetic.py', '2d'), ('integral3d_tiny_synthetic.py', '3d'),
    ('hrnet_smpl_tiny_synthetic.py', 'mesh'), ('hrnet_smpl_lifting_synthetic.py', 'mesh'),
])
def test_output_kind_follows_the_head(config, kind):
    assert output_kind(load_config(str(DEMO / config))) == kind


def test_without_output_folders_only_the_people_come_back(scene, tmp_path, monkeypatch):
    """3D keypoints through ``inference_topdown``: per person the box as given and (K, 3) keypoints rounded to 0.01,
    the same numbers as mmpose's ``inference_topdown`` gives; no file is written."""
    from mmpose.apis import inference_topdown, init_model
    config = str(DEMO / 'integral3d_tiny_synthetic.py')
    model = init_model(config, None, device='cpu')
    checkpoint = tmp_path / 'random_init.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    (tmp_path / 'cwd').mkdir()
    monkeypatch.chdir(tmp_path / 'cwd')
    (result, ) = run_inference(config, str(checkpoint), str(scene), None, boxes={scene.name: BOXES})
    assert result['kind'] == '3d' and [p['bbox'] for p in result['people']] == BOXES
    want = inference_topdown(model, str(scene), np.asarray(BOXES, np.float32), bbox_format='xyxy')
    for person, sample in zip(result['people'], want):
        assert np.shape(person['keypoints']) == (17, 3)
        np.testing.assert_array_equal(person['keypoints'], sample.pred_instances.keypoints[0].round(2))
    assert not list((tmp_path / 'cwd').iterdir())


def test_mesh_model_draws_meshes_and_writes_obj_files_once(scene, tmp_path):
    config = str(DEMO / 'hrnet_smpl_tiny_synthetic.py')
    vis, objs = tmp_path / 'inference', tmp_path / 'inference' / 'meshes'
    (result, ) = run_inference(config, None, str(scene), None, boxes={str(scene): BOXES}, vis_out_dir=str(vis),
                               obj_dir=str(objs))
    assert result['kind'] == 'mesh' and len(result['people']) == 2
    saved = json.loads((vis / f'{scene.stem}_predictions.json').read_text())
    assert saved == json.loads(json.dumps(dict(image=str(scene), people=result['people'])))
    drawing = cv2.imread(str(vis / scene.name))
    assert drawing.shape == (240, 180, 3) and not np.array_equal(drawing, cv2.imread(str(scene)))  # meshes drawn
    assert sorted(p.name for p in objs.iterdir()) == [f'{scene.stem}_0.obj', f'{scene.stem}_1.obj']
    with pytest.raises(FileExistsError, match=rf'{vis} already holds results for {scene}'):
        next(run_inference(config, None, str(scene), None, boxes={str(scene): BOXES}, vis_out_dir=str(vis)))


def test_mesh_model_with_out_dir_and_the_whole_image(scene, tmp_path):
    """``out_dir``: the drawing and the people in ``out_dir/visualizations``; no boxes: one whole-image person."""
    (result, ) = run_inference(str(DEMO / 'hrnet_smpl_tiny_synthetic.py'), None, str(scene), str(tmp_path))
    assert [p['bbox'] for p in result['people']] == [[0.0, 0.0, 180.0, 240.0]]
    assert sorted(p.name for p in (tmp_path / 'visualizations').iterdir()) == [scene.name,
                                                                              f'{scene.stem}_predictions.json']
