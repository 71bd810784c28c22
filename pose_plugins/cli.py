"""What ``tools/train.py`` and ``tools/test.py`` share: argument parsing and turning CLI flags into config.

Flags follow mmpose's tools (``--work-dir``, ``--resume``, ``--amp``, ``--cfg-options``, ``--launcher`` ...), so a
user of mmpose needs nothing new. Two behaviours go beyond mmpose's tools:

* a work dir that already holds checkpoints is never trained into from scratch (mmengine would overwrite
  ``epoch_N.pth``): pass ``--resume`` to continue it, or choose another ``--work-dir``;
* without GPUs, ``--launcher pytorch`` runs on gloo with ``device_ids=None`` (:func:`compat.setup_cpu_distributed`).
"""
from __future__ import annotations

import argparse
import glob
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

__all__ = ['WorkDirNotEmptyError', 'build_runner', 'load_config', 'parse_test_args', 'parse_train_args']


class WorkDirNotEmptyError(FileExistsError):
    """Training from scratch would overwrite checkpoints that already exist in the work dir."""


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default: ./work_dirs/CONFIG_NAME)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_epochs=5 (xxx=[a,b] for lists)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (pytorch = torchrun; on a machine without GPUs it uses gloo)')
    parser.add_argument('--show-dir', help='save visualized predictions under WORK_DIR/TIMESTAMP/SHOW_DIR')
    parser.add_argument('--interval', type=int, default=1, help='visualize every N-th sample with --show-dir')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_train_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a pose_plugins (or any mmpose) model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CHECKPOINT, or from the latest checkpoint of the work dir if none given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (AmpOptimWrapper)')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr by (GPUs x batch size) / auto_scale_lr.base_batch_size')
    _add_common(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def parse_test_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a pose_plugins (or any mmpose) checkpoint')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics to this JSON file (must not exist yet)')
    parser.add_argument('--dump', help='dump predictions to this pickle file (must not exist yet)')
    _add_common(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config file, with ``--cfg-options`` merged in, raising a clear error for a missing file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _set_work_dir(cfg: Config, args: argparse.Namespace) -> None:
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])


def _enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    if args.show_dir is None:
        return
    vis = cfg.default_hooks.get('visualization')
    if vis is None:
        raise KeyError(f'{args.config}: --show-dir needs default_hooks.visualization (PoseVisualizationHook)')
    vis.update(enable=True, out_dir=args.show_dir, interval=args.interval)


def _has_accelerator() -> bool:
    from mmengine.device import is_cuda_available, is_mlu_available, is_npu_available
    return is_cuda_available() or is_npu_available() or is_mlu_available()


def _checkpoints_in(work_dir: str) -> list[str]:
    return sorted(glob.glob(osp.join(work_dir, '*.pth')))


def prepare_train_config(args: argparse.Namespace) -> Config:
    """Config for ``tools/train.py`` with the CLI flags applied (see module docstring)."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    _set_work_dir(cfg, args)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp and not _has_accelerator():
        raise RuntimeError('--amp (AmpOptimWrapper) needs a GPU/NPU/MLU; none is available on this machine')
    if args.amp and cfg.optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint {args.resume} does not exist')
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError(f'{args.config}: --auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...)')
        cfg.auto_scale_lr.enable = True
    _enable_visualization(cfg, args)
    existing = _checkpoints_in(cfg.work_dir)
    if existing and not cfg.get('resume', False):
        raise WorkDirNotEmptyError(
            f'work dir {cfg.work_dir} already holds checkpoints ({", ".join(map(osp.basename, existing[:3]))}'
            f'{" ..." if len(existing) > 3 else ""}); training from scratch would overwrite them. Pass --resume '
            'to continue that run, or choose another --work-dir.')
    return cfg


def prepare_test_config(args: argparse.Namespace) -> Config:
    """Config for ``tools/test.py`` with the CLI flags applied; refuses to overwrite ``--out``/``--dump``."""
    cfg = load_config(args.config, args.cfg_options)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    for flag, path in (('--out', args.out), ('--dump', args.dump)):
        if path is not None and osp.exists(path):
            raise FileExistsError(f'{flag} {path} already exists; refusing to overwrite it')
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    _set_work_dir(cfg, args)
    _enable_visualization(cfg, args)
    if args.dump is not None:
        cfg.test_evaluator = [*(cfg.test_evaluator if isinstance(cfg.test_evaluator, list)
                                else [cfg.test_evaluator]),
                              dict(type='DumpResults', out_file_path=args.dump)]
    return cfg


def build_runner(cfg: Config, launcher: str):
    """Build mmengine's Runner, on gloo with ``device_ids=None`` when distributed without GPUs."""
    from mmengine.runner import Runner

    from . import compat
    compat.setup_cpu_distributed(cfg, launcher)
    return Runner.from_cfg(cfg)
