"""tools/demo.py's (pose_plugins.apis.demo) ``data_options``: what points a demo config at a synthetic set. A mesh
model starts from the set's mean body; the 2D demo config run on the mesh set (the 2D stage of the two-stage mesh
demo) gets no mesh-head entry, which its HeatmapHead would refuse. ``run_first_stage``: how a two-stage demo
config's first stage is run (this demo again, in a subprocess)."""
import argparse
import json
import os
import sys

import pytest

from conftest import REPO
from pose_plugins.apis import demo


def test_mean_params_only_for_a_mesh_head(tmp_path):
    from pose_plugins.cli import load_config
    root = str(tmp_path) + '/'
    (tmp_path / 'body_mean_params.npz').write_bytes(b'')  # only its presence is looked at here
    ann = root + 'annotations/person_keypoints_val2017.json'

    mesh = demo.data_options(load_config(str(REPO / 'configs/demo/hrnet_smpl_tiny_synthetic.py'), {}), root)
    assert mesh['model.head.mean_params'] == root + 'body_mean_params.npz'
    assert mesh['val_evaluator.0.ann_file'] == ann and 'val_evaluator.1.ann_file' not in mesh  # MeshMetric: none
    assert mesh['train_dataloader.dataset.data_root'] == root

    two_d_cfg = load_config(str(REPO / 'configs/demo/hrnet_tiny_synthetic.py'), {'synthetic_data.mesh': True})
    two_d = demo.data_options(two_d_cfg, root)
    assert not any(key.startswith('model.') for key in two_d)
    assert two_d['val_evaluator.ann_file'] == ann
    assert two_d['val_dataloader.dataset.bbox_file'] == root + 'person_detection_results/val_gt_boxes.json'

    (tmp_path / 'body_mean_params.npz').unlink()
    assert 'model.head.mean_params' not in demo.data_options(
        load_config(str(REPO / 'configs/demo/hrnet_smpl_tiny_synthetic.py'), {}), root)


def test_first_stage_runs_this_tool_on_the_same_set(tmp_path, monkeypatch):
    """``demo_first_stage``: this tool runs again on the stage's config with the same data root and the set's
    options as ``synthetic_data.*`` entries (so the marker matches and the set is reused), plus the stage's own
    options, all in a form ``--cfg-options`` parses back; its checkpoint is what its ``demo_result.json`` names. A
    malformed entry is refused with its value."""
    from mmengine.config import DictAction
    calls = []

    def fake_run(args, check):
        calls.append(args)
        work_dir = args[args.index('--work-dir') + 1]
        os.makedirs(work_dir)
        with open(os.path.join(work_dir, 'demo_result.json'), 'w') as f:
            json.dump({'checkpoint': os.path.join(work_dir, 'epoch_2.pth')}, f)

    monkeypatch.setattr(demo.subprocess, 'run', fake_run)
    first = dict(config='configs/demo/hrnet_tiny_synthetic.py',
                 cfg_options={'train_cfg.max_epochs': 2, 'param_scheduler.1.milestones': [1, 2]})
    synthetic = dict(mesh=True, joint_pads=True, person_height=[112.0, 176.0], num_train_images=300)
    checkpoint = demo.run_first_stage(first, '/data/set/', str(tmp_path / 'first'), synthetic)
    assert checkpoint == str(tmp_path / 'first' / 'epoch_2.pth')
    (args, ) = calls
    assert args[:3] == [sys.executable, '-m', 'pose_plugins.apis.demo']  # this demo (tools/demo.py's code) again
    assert args[args.index('--config') + 1] == first['config'] and args[args.index('--data-root') + 1] == '/data/set/'
    parsed = argparse.Namespace()
    DictAction(option_strings=[], dest='options')(None, parsed, args[args.index('--cfg-options') + 1:])
    expected = {f'synthetic_data.{key}': value for key, value in synthetic.items()}
    expected.update(first['cfg_options'])
    assert parsed.options == expected
    for bad in (dict(config=3), dict(cfg_options={}), dict(config='a.py', epochs=3), ['a.py']):
        with pytest.raises(ValueError, match='demo_first_stage must be dict'):
            demo.run_first_stage(bad, '/data/set/', str(tmp_path / 'x'), synthetic)
