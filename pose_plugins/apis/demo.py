"""``tools/demo.py``: synthetic data -> train a demo config on CPU -> evaluate -> inference on a val image.

Steps, each timed: the synthetic set (:func:`ensure_data`, generated once), an optional first stage
(:func:`run_first_stage`), training and testing with mmengine's Runner in a new work dir (the config pointed at the
set by :func:`data_options`), and :func:`pose_plugins.inference.run_inference` on the first val image with its
person boxes. ``WORK_DIR/demo_result.json`` gets the metrics, the last checkpoint and the seconds of each step.
Run as ``python -m pose_plugins.apis.demo`` (a first stage does) it is ``tools/demo.py``.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config, DictAction

from pose_plugins.cli import ToolArgumentParser, build_runner, load_config
from pose_plugins.inference import output_kind, run_inference
from pose_plugins.synthetic import (SyntheticCocoConfig, SyntheticMeshConfig, make_synthetic_coco,
                                    make_synthetic_mesh_coco)

__all__ = ['DATA', 'DEFAULT_CONFIG', 'VAL_ANN_FILE', 'data_options', 'ensure_data', 'main', 'parse_args',
           'run_first_stage']

DEFAULT_CONFIG = 'configs/demo/hrnet_tiny_synthetic.py'
# the demo config's data: same seed and counts give byte-identical files
DATA = dict(num_train_images=1200, num_val_images=150, seed=0)
#: The val annotations inside a synthetic set (what every metric's ann_file points at).
VAL_ANN_FILE = 'annotations/person_keypoints_val2017.json'
MEAN_PARAMS_FILE = 'body_mean_params.npz'  # the mesh generator's mean body of the train split


def ensure_data(data_root: str, synthetic_options: Dict[str, Any]) -> None:
    """Generate the synthetic set unless a complete one (with its marker) is already there.

    Args:
        data_root: the set's folder (no trailing ``/``).
        synthetic_options: a config's ``synthetic_data``: :class:`SyntheticCocoConfig` options, or with ``mesh=True``
            :class:`SyntheticMeshConfig` options (``num_train_images`` / ``num_val_images`` may change the counts).

    Raises:
        FileExistsError: ``data_root`` holds something else than this set.
    """
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
    if synthetic_options.get('mesh'):  # mesh people (body fields); the config may set its own image counts
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


def data_options(base_cfg: Config, root: str) -> Dict[str, Any]:
    """The config entries that point a demo config at the synthetic set in ``root`` (ends with ``/``): data roots,
    the val set's person boxes (2D), every metric's annotation file, and for a mesh model (a
    ``MeshRegressionHead``) the set's ``body_mean_params.npz`` as the regressor's start. Any other config (e.g. the
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
    if output_kind(base_cfg) == 'mesh' and osp.isfile(root + MEAN_PARAMS_FILE):
        options['model.head.mean_params'] = root + MEAN_PARAMS_FILE  # a mesh model: its data's mean body
    return options


def run_first_stage(first: Any, data_root: str, work_dir: str, synthetic_options: Dict[str, Any]) -> str:
    """Train ``first`` (``dict(config=..., cfg_options=...)``, a config's ``demo_first_stage``) with this demo, in a
    subprocess, on the same synthetic set, in ``work_dir``; returns its last checkpoint. The set's options go along
    as ``synthetic_data.*`` entries, so the stage reuses the set instead of generating another.

    Raises:
        ValueError: ``first`` is not of that form.
        subprocess.CalledProcessError: the stage failed.
    """
    if (not isinstance(first, dict) or not isinstance(first.get('config'), str)
            or set(first) - {'config', 'cfg_options'}):
        raise ValueError(f'demo_first_stage must be dict(config=<path>[, cfg_options=dict(...)]), got {first!r}')
    options = {f'synthetic_data.{key}': value for key, value in synthetic_options.items()}
    options.update(first.get('cfg_options') or {})
    args = [sys.executable, '-m', 'pose_plugins.apis.demo', '--config', first['config'], '--data-root', data_root,
            '--work-dir', work_dir, '--cfg-options'] + [f'{key}={json.dumps(value)}' for key, value in options.items()]
    print(f'[demo] first stage: {first["config"]} in {work_dir}', flush=True)
    subprocess.run(args, check=True)
    with open(osp.join(work_dir, 'demo_result.json')) as f:
        return json.load(f)['checkpoint']


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/demo.py``'s flags (``argv`` None: ``sys.argv[1:]``); ``description`` heads ``--help``."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--data-root', default=None, help="default: the config's data_root")
    parser.add_argument('--work-dir', default=None, help='default: work_dirs/demo/<timestamp> (must not exist)')
    parser.add_argument('--epochs', type=int, default=None, help='override train_cfg.max_epochs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries of the training and the evaluation, as tools/train.py '
                             'does (e.g. train_dataloader.dataset.indices=600 for a shorter run)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> None:
    """``tools/demo.py``: every step, then a summary printed.

    Raises:
        FileExistsError: the work dir is not empty, or the data root holds something else.
    """
    args = parse_args(argv, description=description)
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

    out_dir = osp.join(work_dir, 'inference')
    image_path, people, drawing = _infer_val_image(test_cfg, checkpoint, root, out_dir)
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


def _infer_val_image(cfg: Config, checkpoint: str, root: str, out_dir: str) -> Tuple[str, List[dict], Optional[str]]:
    """Inference on the set's first val image with its labelled people's boxes; returns (image path, people,
    drawing path or None).

    Outputs by the model's kind: 2D: ``out_dir/visualizations/NAME`` and ``out_dir/predictions/STEM.json``; meshes:
    ``out_dir/NAME``, ``out_dir/STEM_predictions.json`` and ``out_dir/meshes/STEM_<person>.obj``; 3D (no drawing:
    mmpose's 2D visualizer does not draw a root-relative depth): ``out_dir/predictions.json`` with per person
    ``bbox`` and ``keypoints`` (K, 3) = image u, v in pixels and depth relative to the hips in mm.
    """
    with open(root + VAL_ANN_FILE) as f:
        val = json.load(f)
    image = val['images'][0]
    boxes = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]]
             for a in val['annotations'] if a['image_id'] == image['id'] and a['num_keypoints'] > 0]
    image_path = osp.join(root, 'val2017', image['file_name'])
    kind = output_kind(cfg)
    where: Dict[str, Any] = dict(out_dir=out_dir)
    if kind == 'mesh':
        where = dict(out_dir=None, vis_out_dir=out_dir, obj_dir=osp.join(out_dir, 'meshes'))
    elif kind == '3d':
        where = dict(out_dir=None)
    (result, ) = run_inference(cfg, checkpoint, image_path, boxes={image_path: boxes}, **where)
    people: List[dict] = result['people']
    if kind == '3d':
        os.makedirs(out_dir, exist_ok=True)
        with open(osp.join(out_dir, 'predictions.json'), 'x') as f:
            json.dump(dict(image=image_path, people=people), f)
        return image_path, people, None
    drawing_dir = out_dir if kind == 'mesh' else osp.join(out_dir, 'visualizations')
    return image_path, people, osp.join(drawing_dir, image['file_name'])


if __name__ == '__main__':
    main()
