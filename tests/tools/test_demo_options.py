"""tools/demo.py's ``data_options``: what points a demo config at a synthetic set. A mesh model starts from the
set's mean body; the 2D demo config run on the mesh set (the 2D stage of README "Human mesh recovery") gets no
mesh-head entry, which its HeatmapHead would refuse."""
import importlib.util

from conftest import REPO


def _demo_tool():
    spec = importlib.util.spec_from_file_location('demo_tool', REPO / 'tools' / 'demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mean_params_only_for_a_mesh_head(tmp_path):
    from pose_plugins.cli import load_config
    demo = _demo_tool()
    root = str(tmp_path) + '/'
    (tmp_path / 'smpl_mean_params.npz').write_bytes(b'')  # only its presence is looked at here
    ann = root + 'annotations/person_keypoints_val2017.json'

    mesh = demo.data_options(load_config(str(REPO / 'configs/demo/hrnet_smpl_tiny_synthetic.py'), {}), root)
    assert mesh['model.head.mean_params'] == root + 'smpl_mean_params.npz'
    assert mesh['val_evaluator.0.ann_file'] == ann and 'val_evaluator.1.ann_file' not in mesh  # MeshMetric: none
    assert mesh['train_dataloader.dataset.data_root'] == root

    two_d_cfg = load_config(str(REPO / 'configs/demo/hrnet_tiny_synthetic.py'), {'synthetic_data.mesh': True})
    two_d = demo.data_options(two_d_cfg, root)
    assert not any(key.startswith('model.') for key in two_d)
    assert two_d['val_evaluator.ann_file'] == ann
    assert two_d['val_dataloader.dataset.bbox_file'] == root + 'person_detection_results/val_gt_boxes.json'

    (tmp_path / 'smpl_mean_params.npz').unlink()
    assert 'model.head.mean_params' not in demo.data_options(
        load_config(str(REPO / 'configs/demo/hrnet_smpl_tiny_synthetic.py'), {}), root)
