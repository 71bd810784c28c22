"""What the tools share: loading a config (:func:`load_config`), and for ``tools/train.py`` and ``tools/test.py``
argument parsing and turning CLI flags into config.

Flags follow mmpose's tools (``--work-dir``, ``--resume``, ``--amp``, ``--cfg-options``, ``--launcher`` ...), so a
user of mmpose needs nothing new. What goes beyond mmpose's tools:

* a work dir that already holds checkpoints is never trained into from scratch (mmengine would overwrite
  ``epoch_N.pth``): pass ``--resume`` to continue it, or choose another ``--work-dir``;
* without GPUs, ``--launcher pytorch`` runs on gloo with ``device_ids=None`` (:func:`compat.setup_cpu_distributed`);
* every training run saves crash-safe checkpoints that carry the random streams: mmengine's ``CheckpointHook`` is
  replaced by :class:`pose_plugins.engine.CrashSafeCheckpointHook` (same arguments) and
  :class:`pose_plugins.engine.RNGStateHook` is added, also for users' configs (docs/reliability.md);
* ``--fast-gpu [--compile]`` (or ``fast_gpu_training=dict(compile=False)`` in a config): bf16 autocast +
  channels_last (+ torch.compile) on CUDA, nothing on a CPU (docs/performance.md).
"""
from __future__ import annotations

import argparse
import logging
import glob
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from pose_plugins import compat

__all__ = ['WorkDirNotEmptyError', 'build_runner', 'load_config', 'parse_test_args', 'parse_train_args',
           'use_crash_safe_hooks']

# what our tools replace mmengine's checkpoint hook with, and the hook they add (pose_plugins.engine)
CRASH_SAFE_CHECKPOINT_HOOK = 'pose_plugins.CrashSafeCheckpointHook'
RNG_STATE_HOOK = 'pose_plugins.RNGStateHook'
FAST_GPU_TRAINING_HOOK = 'pose_plugins.FastGPUTrainingHook'
_MMENGINE_CHECKPOINT_HOOK = ('CheckpointHook', 'mmengine.CheckpointHook', 'mmpose.CheckpointHook')


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
    parser.add_argument('--fast-gpu', action='store_true',
                        help='the fast GPU recipe: bf16 autocast + channels_last (config: fast_gpu_training=dict()); '
                             'on a machine without CUDA it changes nothing and says so')
    parser.add_argument('--compile', action='store_true', help='with --fast-gpu: also torch.compile the model')
    parser.add_argument('--no-validate', action='store_true', help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale lr by (GPUs x batch size) / auto_scale_lr.base_batch_size')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (randomness.deterministic=True: torch.use_deterministic_'
                             'algorithms, cuDNN deterministic); seed 0 unless the config sets randomness.seed')
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
    """Read a config file, with ``cfg_options`` (``--cfg-options``) merged in.

    Raises:
        FileNotFoundError: naming ``path`` when it is not a file.
    """
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


def _hook_type(hook) -> Optional[str]:
    hook_type = hook.get('type') if isinstance(hook, dict) else type(hook)
    return hook_type if isinstance(hook_type, str) or hook_type is None else hook_type.__name__


def use_crash_safe_hooks(cfg: Config) -> None:
    """Make a training config save crash-safe checkpoints that carry the random streams (docs/reliability.md).

    mmengine's ``CheckpointHook`` (``default_hooks.checkpoint``, or mmengine's default one when the config has none)
    becomes ``pose_plugins.CrashSafeCheckpointHook`` with the same arguments, and ``pose_plugins.RNGStateHook`` is
    added as ``default_hooks.rng_state`` unless the config lists it already. A checkpoint hook of another type (a
    user's own) and ``default_hooks.checkpoint=None`` (saving switched off) are left alone;
    ``default_hooks.rng_state=None`` switches the RNG hook off (the entry is removed, as mmengine would fail on it).
    """
    hooks = cfg.get('default_hooks')
    if hooks is None:
        cfg.default_hooks = {}
        hooks = cfg.default_hooks  # the Config's own ConfigDict, not the literal assigned
    if 'checkpoint' not in hooks:
        hooks['checkpoint'] = dict(type=CRASH_SAFE_CHECKPOINT_HOOK, interval=1)  # mmengine's default, crash-safe
    elif isinstance(hooks['checkpoint'], dict) and _hook_type(hooks['checkpoint']) in _MMENGINE_CHECKPOINT_HOOK:
        hooks['checkpoint']['type'] = CRASH_SAFE_CHECKPOINT_HOOK
    if 'rng_state' in hooks and hooks['rng_state'] is None:
        del hooks['rng_state']  # switched off; mmengine accepts None only for its own default hooks' names
        return
    listed = [*hooks.values(), *(cfg.get('custom_hooks') or [])]
    if not any((_hook_type(h) or '').endswith('RNGStateHook') for h in listed if h):
        hooks['rng_state'] = dict(type=RNG_STATE_HOOK)


def use_fast_gpu_training(cfg: Config) -> None:
    """Apply the config's ``fast_gpu_training=dict(compile=False)`` switch (``tools/train.py --fast-gpu``).

    On CUDA: bf16 autocast through ``AmpOptimWrapper(dtype='bfloat16')`` without loss scaling (bf16 has fp32's
    exponent range) and :class:`~pose_plugins.engine.FastGPUTrainingHook` (channels_last, and ``compile``). Without
    CUDA the config is left as it is, so a CPU run gives the results it gives without the switch.
    """
    switch = cfg.get('fast_gpu_training')
    if switch is None or switch is False:
        return
    switch = dict(switch) if isinstance(switch, dict) else {}
    unknown = set(switch) - {'compile'}
    if unknown:
        raise KeyError(f'fast_gpu_training: unknown option(s) {sorted(unknown)}; the only option is compile')
    from mmengine.device import is_cuda_available
    if not is_cuda_available():
        print_log('fast_gpu_training: no CUDA device; bf16 autocast, channels_last and compile are left off '
                  '(the run is the plain fp32 one)', logger='current', level=logging.WARNING)
        return
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.dtype = 'bfloat16'
    cfg.optim_wrapper.loss_scale = dict(enabled=False)  # GradScaler off: bf16 has fp32's exponent range
    hooks = list(cfg.get('custom_hooks') or [])
    if not any((_hook_type(h) or '').endswith('FastGPUTrainingHook') for h in hooks):
        hooks.append(dict(type=FAST_GPU_TRAINING_HOOK, compile=bool(switch.get('compile', False))))
    cfg.custom_hooks = hooks


def _set_deterministic(cfg: Config) -> None:
    randomness = dict(cfg.get('randomness') or {})
    if randomness.get('seed') is None:
        randomness['seed'] = 0  # deterministic algorithms without a fixed seed would still differ run to run
    randomness['deterministic'] = True
    cfg.randomness = randomness


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
    if args.fast_gpu:
        cfg.fast_gpu_training = dict(compile=args.compile)
    elif args.compile:
        raise ValueError('--compile is part of the fast GPU recipe: pass it with --fast-gpu')
    use_fast_gpu_training(cfg)
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
    if args.deterministic:
        _set_deterministic(cfg)
    use_crash_safe_hooks(cfg)
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
    compat.setup_cpu_distributed(cfg, launcher)
    return Runner.from_cfg(cfg)
