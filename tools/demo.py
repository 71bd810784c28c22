"""The main job on the embedded default: synthetic data -> train a small HRNet on CPU -> COCO AP -> inference.

    python tools/demo.py [--config configs/demo/hrnet_tiny_synthetic.py] [--data-root data/synthetic_coco]
                         [--work-dir work_dirs/demo/RUN] [--epochs N] [--cfg-options KEY=VALUE ...]

1. generates (once; reused when present) a deterministic synthetic COCO-format train/val set;
2. trains the demo config with mmengine's Runner, in a new work dir (an existing one is never overwritten);
3. evaluates the last checkpoint on the synthetic val set with the config's metric (through the safe loader):
   mmpose's CocoMetric, or MPJPE / PA-MPJPE for a 3D config;
4. runs mmpose's MMPoseInferencer on a val image with the val set's person boxes and saves the drawing (a 3D
   config: mmpose's inference_topdown, predictions saved as JSON).
Prints the metrics, the time of each step and where everything went. A config may carry
``synthetic_data = dict(...)``: SyntheticCocoConfig options for its data (e.g. ``with_3d=True``), or with
``mesh=True`` SyntheticMeshConfig options (mesh people with SMPL fields; ``num_train_images`` /
``num_val_images`` may change the counts), whose demo draws the recovered meshes and writes them as .obj.
A config may also carry ``demo_first_stage = dict(config=..., cfg_options=dict(...))``: another demo config that
this tool trains first on the same synthetic set (``tools/demo.py`` on it, in ``WORK_DIR/first_stage``), whose last
checkpoint then becomes this config's ``load_from`` (unless ``--cfg-options load_from=...`` names one), e.g. a 2D
heatmap model under a mesh model (configs/demo/hrnet_smpl_lifting_synthetic.py).
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import numpy as np
from mmengine.config import DictAction

import pose_plugins  # noqa: F401  (installs compat adapters and registers our classes)
from pose_plugins.cli import build_runner, load_config
from pose_plugins.datasets import SyntheticCocoConfig, make_synthetic_coco
from pose_plugins.inference import run_inference

DEFAULT_CONFIG = 'configs/demo/hrnet_tiny_synthetic.py'
# the demo config's data: same seed and counts give byte-identical files
DATA = dict(num_train_images=1200, num_val_images=150, seed=0)
#: The val annotations inside a synthetic set (what every metric's ann_file points at).
VAL_ANN_FILE = 'annotations/person_keypoints_val2017.json'


def ensure_data(data_root: str, synthetic_options: dict) -> None:
    """Generate the synthetic set unless a complete one (with its marker) is already there."""
    wanted = dict(DATA, **({'config': synthetic_options} if synthetic_options else {}))
    marker = osp.join(data_root, '.complete.json')
    if osp.isfile(marker):
        with open(marker) as f:
            if json.load(f) == wanted:
                print(f'[demo] reusing synthetic data in {data_root}')
                return
    if osp.exists(data_root) and os.listdir(data_root):
        raise FileExistsError(f'{data_root} exists but is not this demo\'s synthetic set; pass another --data-root')
    tmp = data_root.rstrip('/') + '.partial'
    shutil.rmtree(tmp, ignore_errors=True)  # our own half-written output from an interrupted run
    start = time.time()
    if synthetic_options.get('mesh'):  # mesh people (SMPL fields); the config may set its own image counts
        from pose_plugins.datasets.synthetic import SyntheticMeshConfig, make_synthetic_mesh_coco
        options = {k: v for k, v in synthetic_options.items() if k != 'mesh' and k not in DATA}
        make_synthetic_mesh_coco(tmp, **dict(DATA, **{k: v for k, v in synthetic_options.items() if k in DATA}),
                                 config=SyntheticMeshConfig.from_options(options))
    else:
        make_synthetic_coco(tmp, **DATA, config=SyntheticCocoConfig(**synthetic_options))
    with open(osp.join(tmp, '.complete.json'), 'w') as f:
        json.dump(wanted, f)
    if osp.exists(data_root):
        os.rmdir(data_root)  # empty, checked above
    os.replace(tmp, data_root)
    print(f'[demo] generated synthetic data in {data_root} ({time.time() - start:.0f} s)')


def is_mesh_model(cfg) -> bool:
    """Whether the config's model is a mesh model (an ``SMPLRegressionHead``)."""
    return str(cfg.model.head.get('type', '')).endswith('SMPLRegressionHead')


def data_options(base_cfg, root: str) -> dict:
    """The config entries that point a demo config at the synthetic set in ``root`` (ends with ``/``): data roots,
    the val set's person boxes (2D), every metric's annotation file, and for a mesh model (an
    ``SMPLRegressionHead``) the set's ``smpl_mean_params.npz`` as the regressor's start. Any other config (e.g. the
    2D demo trained on the mesh people, a 2D stage) runs on the mesh set unchanged."""
    options = {'data_root': root,
               'train_dataloader.dataset.data_root': root,
               'val_dataloader.dataset.data_root': root}
    if base_cfg.val_dataloader.dataset.get('bbox_file'):  # 2D: the generator's GT boxes in detector format
        options['val_dataloader.dataset.bbox_file'] = root + 'person_detection_results/val_gt_boxes.json'
    if isinstance(base_cfg.val_evaluator, list):  # several metrics (the mesh demo: CocoMetric + MeshMetric)
        for index, evaluator in enumerate(base_cfg.val_evaluator):
            if 'ann_file' in evaluator:
                options[f'val_evaluator.{index}.ann_file'] = root + VAL_ANN_FILE
    elif 'ann_file' in base_cfg.val_evaluator:  # CocoMetric
        options['val_evaluator.ann_file'] = root + VAL_ANN_FILE
    if is_mesh_model(base_cfg) and osp.isfile(root + 'smpl_mean_params.npz'):
        options['model.head.mean_params'] = root + 'smpl_mean_params.npz'  # a mesh model: its data's mean body
    return options


def run_first_stage(first: dict, data_root: str, work_dir: str, synthetic_options: dict) -> str:
    """Train ``first`` (``dict(config=..., cfg_options=...)``, a config's ``demo_first_stage``) with this tool on the
    same synthetic set, in ``work_dir``; returns its last checkpoint. The set's options go along as
    ``synthetic_data.*`` entries, so the stage reuses the set instead of generating another."""
    if (not isinstance(first, dict) or not isinstance(first.get('config'), str)
            or set(first) - {'config', 'cfg_options'}):
        raise ValueError(f'demo_first_stage must be dict(config=<path>[, cfg_options=dict(...)]), got {first!r}')
    options = {f'synthetic_data.{key}': value for key, value in synthetic_options.items()}
    options.update(first.get('cfg_options') or {})
    args = [sys.executable, osp.abspath(__file__), '--config', first['config'], '--data-root', data_root,
            '--work-dir', work_dir, '--cfg-options'] + [f'{key}={json.dumps(value)}' for key, value in options.items()]
    print(f'[demo] first stage: {first["config"]} in {work_dir}', flush=True)
    subprocess.run(args, check=True)
    with open(osp.join(work_dir, 'demo_result.json')) as f:
        return json.load(f)['checkpoint']


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--data-root', default=None, help="default: the config's data_root")
    parser.add_argument('--work-dir', default=None, help='default: work_dirs/demo/<timestamp> (must not exist)')
    parser.add_argument('--epochs', type=int, default=None, help='override train_cfg.max_epochs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries of the training and the evaluation, as tools/train.py '
                             'does (e.g. train_dataloader.dataset.indices=600 for a shorter run)')
    args = parser.parse_args()

    t0 = time.time()
    base_cfg = load_config(args.config, {k: v for k, v in args.cfg_options.items() if k.startswith('synthetic_data.')})
    data_root = args.data_root or base_cfg.get('data_root', 'data/synthetic_coco/')
    ensure_data(data_root.rstrip('/'), dict(base_cfg.get('synthetic_data', {})))
    t_data = time.time()

    work_dir = args.work_dir or osp.join('work_dirs', 'demo', time.strftime('%Y%m%d_%H%M%S'))
    if osp.exists(work_dir) and os.listdir(work_dir):
        raise FileExistsError(f'work dir {work_dir} is not empty; choose another --work-dir')
    root = data_root.rstrip('/') + '/'
    options = data_options(base_cfg, root)
    if args.epochs is not None:
        options['train_cfg.max_epochs'] = args.epochs
    first = base_cfg.get('demo_first_stage')
    if first is not None and 'load_from' not in args.cfg_options:
        os.makedirs(work_dir, exist_ok=True)
        options['load_from'] = run_first_stage(first, root, osp.join(work_dir, 'first_stage'),
                                               dict(base_cfg.get('synthetic_data', {})))
    t_first = time.time()
    options.update(args.cfg_options)
    cfg = load_config(args.config, options)
    cfg.test_dataloader, cfg.test_evaluator = cfg.val_dataloader, cfg.val_evaluator
    cfg.work_dir = work_dir
    runner = build_runner(cfg, 'none')
    runner.train()
    t_train = time.time()

    checkpoint = osp.join(work_dir, f'epoch_{cfg.train_cfg.max_epochs}.pth')
    test_cfg = load_config(args.config, options)
    test_cfg.test_dataloader, test_cfg.test_evaluator = test_cfg.val_dataloader, test_cfg.val_evaluator
    test_cfg.work_dir, test_cfg.load_from = osp.join(work_dir, 'test'), checkpoint
    metrics = build_runner(test_cfg, 'none').test()
    t_test = time.time()

    with open(root + VAL_ANN_FILE) as f:
        val = json.load(f)
    image = val['images'][0]
    boxes = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]]
             for a in val['annotations'] if a['image_id'] == image['id'] and a['num_keypoints'] > 0]
    image_path = osp.join(root, 'val2017', image['file_name'])
    out_dir = osp.join(work_dir, 'inference')
    if cfg.model.head.get('depth_bins', 1) > 1:
        people, drawing = infer_3d(test_cfg, checkpoint, image_path, boxes, out_dir), None
    elif is_mesh_model(cfg):  # the meshes drawn over the image, and .obj files
        from mmpose.apis import init_model
        from pose_plugins.visualization import infer_meshes
        people = infer_meshes(init_model(test_cfg, checkpoint, device='cpu'), image_path, boxes, out_dir,
                              obj_dir=osp.join(out_dir, 'meshes'))
        drawing = osp.join(out_dir, image['file_name'])
    else:
        for result in run_inference(args.config, checkpoint, image_path, out_dir, boxes={image_path: boxes}):
            people = result['predictions'][0]
        drawing = osp.join(out_dir, 'visualizations', image['file_name'])
    t_infer = time.time()

    with open(osp.join(work_dir, 'demo_result.json'), 'x') as f:
        json.dump({'metrics': {k: float(v) for k, v in metrics.items()}, 'checkpoint': checkpoint,
                   'seconds': {'data': t_data - t0, 'first_stage': t_first - t_data, 'train': t_train - t_first,
                               'test': t_test - t_train, 'infer': t_infer - t_test, 'total': t_infer - t0}},
                  f, indent=2)
    print('\n[demo] ---------------- summary ----------------')
    if 'coco/AP' in metrics:
        print(f'[demo] synthetic val COCO AP {metrics["coco/AP"]:.3f} (AP50 {metrics["coco/AP .5"]:.3f}, '
              f'AR {metrics["coco/AR"]:.3f})')
    else:
        print('[demo] synthetic val ' + ', '.join(f'{k} {float(v):.1f}' for k, v in metrics.items()) + ' (mm)')
    if 'mesh/MPJPE' in metrics:  # a mesh config reports both
        errors = [k for k in ('mesh/MPJPE', 'mesh/PA-MPJPE', 'mesh/PVE') if k in metrics]
        print('[demo] synthetic val ' + ', '.join(f'{k} {float(metrics[k]):.1f}' for k in errors) + ' (mm)')
    first_time = f'first stage {t_first - t_data:.0f} s, ' if first is not None else ''
    print(f'[demo] time: data {t_data - t0:.0f} s, {first_time}train {t_train - t_first:.0f} s, '
          f'test {t_test - t_train:.0f} s, inference {t_infer - t_test:.0f} s, total {t_infer - t0:.0f} s')
    print(f'[demo] checkpoint {checkpoint}')
    print(f'[demo] inference on {image_path}: {len(people)} person(s); '
          + (f'drawing in {drawing}' if drawing else f'predictions in {osp.join(out_dir, "predictions.json")}'))


def infer_3d(cfg, checkpoint: str, image_path: str, boxes: list, out_dir: str) -> list:
    """Root-relative 3D keypoints of the given people through mmpose's ``inference_topdown``, saved as JSON.

    MMPoseInferencer's 2D visualizer does not draw a root-relative depth, so the 3D demo writes numbers instead:
    per person ``keypoints`` (K, 3) = image u, v in pixels and depth relative to the hips in mm.
    """
    from mmpose.apis import inference_topdown, init_model
    model = init_model(cfg, checkpoint, device='cpu')
    samples = inference_topdown(model, image_path, bboxes=np.asarray(boxes, dtype=np.float32), bbox_format='xyxy')
    people = [dict(bbox=box, keypoints=s.pred_instances.keypoints[0].round(2).tolist())
              for box, s in zip(boxes, samples)]
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'predictions.json'), 'x') as f:
        json.dump(dict(image=image_path, people=people), f)
    return people


if __name__ == '__main__':
    main()
