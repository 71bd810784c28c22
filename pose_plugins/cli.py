"""What the tools share: loading a config (:func:`load_config`), and for ``tools/train.py`` and ``tools/test.py``
argument parsing and turning CLI flags into config.

Flags follow mmpose's tools (``--work-dir``, ``--resume``, ``--amp``, ``--cfg-options``, ``--launcher`` ...), so a
user of mmpose needs nothing new. What goes beyond mmpose's tools:

* a work dir that already holds checkpoints is never trained into from scratch (mmengine would overwrite
  ``epoch_N.pth``): pass ``--resume`` to continue it, or choose another ``--work-dir``;
* ``--resume`` of a checkpoint that cannot be read is refused, naming it and an intact older one of the work dir;
* one training run per work dir at a time (:func:`lock_work_dir`: an advisory lock held by the run's rank 0);
* a refusal (a user's mistake) is one line on stderr in argparse's form, ``PROG: error: MESSAGE``, exit status 2
  (:class:`ToolArgumentParser`, :func:`run_tool`); ``--debug`` shows the traceback instead;
* without GPUs, ``--launcher pytorch`` runs on gloo with ``device_ids=None`` (:func:`compat.setup_cpu_distributed`);
* every training run saves crash-safe checkpoints that carry the random streams: mmengine's ``CheckpointHook`` is
  replaced by :class:`pose_plugins.engine.CrashSafeCheckpointHook` (same arguments) and
  :class:`pose_plugins.engine.RNGStateHook` is added, also for users' configs (docs/reliability.md);
* ``--fast-gpu [--compile [blocks|whole]]`` (or ``fast_gpu_training=dict(...)`` in a config): bf16 autocast,
  channels_last, the fused optimizer (+ torch.compile) on CUDA, nothing on a CPU (docs/performance.md).
"""
from __future__ import annotations

import argparse
import datetime
import fcntl
import glob
import json
import logging
import os
import os.path as osp
import re
import socket
import sys
import traceback
from typing import Any, Callable, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from pose_plugins import compat

__all__ = ['NoAcceleratorError', 'ToolArgumentParser', 'UsageError', 'WorkDirLock', 'WorkDirLockedError',
           'WorkDirNotEmptyError', 'build_runner', 'error_message', 'launch_rank', 'load_config', 'lock_work_dir',
           'parse_test_args', 'parse_train_args', 'run_tool', 'use_crash_safe_hooks']

# what our tools replace mmengine's checkpoint hook with, and the hook they add (pose_plugins.engine)
CRASH_SAFE_CHECKPOINT_HOOK = 'pose_plugins.CrashSafeCheckpointHook'
RNG_STATE_HOOK = 'pose_plugins.RNGStateHook'
FAST_GPU_TRAINING_HOOK = 'pose_plugins.FastGPUTrainingHook'
_MMENGINE_CHECKPOINT_HOOK = ('CheckpointHook', 'mmengine.CheckpointHook', 'mmpose.CheckpointHook')


class UsageError(Exception):
    """A tool refuses what the user asked for (the message says what and what to do); :func:`run_tool` prints it as
    one line."""


class WorkDirNotEmptyError(UsageError, FileExistsError):
    """Training from scratch would overwrite checkpoints that already exist in the work dir."""


class WorkDirLockedError(UsageError, RuntimeError):
    """Another training run holds the work dir's lock (:func:`lock_work_dir`)."""


class NoAcceleratorError(UsageError, RuntimeError):
    """A flag needs a GPU (or NPU / MLU) that this machine lacks."""


#: What a tool's refusal may raise: printed as one line by :func:`run_tool` when raised by our own code (a frame of
#: pose_plugins or tools/ raised it); from third-party code they are faults, shown with their traceback.
USER_ERROR_TYPES = (UsageError, FileNotFoundError, FileExistsError, ValueError, KeyError, compat.UnsafeCheckpointError)

_OUR_DIRS = tuple(osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), d) + os.sep
                  for d in ('pose_plugins', 'pose_plugins_runtime', 'tools'))


class ToolArgumentParser(argparse.ArgumentParser):
    """argparse's parser for our tools: an error is one line, ``PROG: error: MESSAGE (see PROG --help)``, exit
    status 2 (argparse prints the usage too), and every tool takes ``--debug`` (see :func:`run_tool`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument('--debug', action='store_true',
                          help='show the full traceback when the tool refuses (for bug reports)')

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f'{self.prog}: error: {message} (see {self.prog} --help)\n')


def _raised_by_us(err: BaseException) -> bool:
    """Whether ``err`` is ours: a :class:`UsageError`, or raised by a line of pose_plugins, tools/ or the script."""
    frames = traceback.extract_tb(err.__traceback__)
    if isinstance(err, UsageError):
        return True
    where = osp.abspath(frames[-1].filename) if frames else ''
    return where.startswith(_OUR_DIRS) or where == osp.abspath(sys.argv[0])


def error_message(err: BaseException) -> str:
    """``err``'s message on one line (a KeyError's without the quotes ``str`` adds)."""
    message = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else str(err)
    return ' '.join(str(message).split())


def run_tool(main: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Run a tool's ``main(*args, **kwargs)`` and return its exit status (``main``'s int, else 0). A refusal
    (:data:`USER_ERROR_TYPES` raised by our own code) prints ``PROG: error: MESSAGE`` on one line to stderr and
    returns 2; with ``--debug`` among the arguments it propagates with its traceback. Anything else (a fault)
    propagates as it is. Known third-party warnings are dropped meanwhile (:func:`compat.quiet_known_messages`)."""
    try:
        with compat.quiet_known_messages():
            status = main(*args, **kwargs)
    except USER_ERROR_TYPES as err:
        if '--debug' in sys.argv[1:] or not _raised_by_us(err):
            raise
        print(f'{osp.basename(sys.argv[0])}: error: {error_message(err)}', file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0


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
    parser = ToolArgumentParser(description='Train a pose_plugins (or any mmpose) model')
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CHECKPOINT, or from the latest checkpoint of the work dir if none given')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision (AmpOptimWrapper)')
    parser.add_argument('--fast-gpu', action='store_true',
                        help='the fast GPU recipe: bf16 autocast + channels_last (config: fast_gpu_training=dict()); '
                             'on a machine without CUDA it changes nothing and says so')
    parser.add_argument('--compile', nargs='?', const='blocks', default=False, choices=('blocks', 'whole'),
                        help="with --fast-gpu: also torch.compile the repeated blocks (default) or the whole model")
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
    parser = ToolArgumentParser(description='Evaluate a pose_plugins (or any mmpose) checkpoint')
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
        raise UsageError(f'{args.config}: --show-dir needs default_hooks.visualization (PoseVisualizationHook)')
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
    """Apply the config's ``fast_gpu_training=dict(compile=False, compile_mode=None, fused_optimizer=True)``
    switch (``tools/train.py --fast-gpu [--compile [blocks|whole]]``).

    On CUDA: bf16 autocast through ``AmpOptimWrapper(dtype='bfloat16')`` without loss scaling (bf16 has fp32's
    exponent range), the optimizer's fused kernel (``fused=True``: Adam, AdamW and SGD) and
    :class:`~pose_plugins.engine.FastGPUTrainingHook` (channels_last, and ``compile``: ``'blocks'`` or ``'whole'``,
    with ``compile_mode``). Without CUDA the config is left as it is, so a CPU run gives the results it gives
    without the switch.
    """
    switch = cfg.get('fast_gpu_training')
    if switch is None or switch is False:
        return
    switch = dict(switch) if isinstance(switch, dict) else {}
    unknown = set(switch) - set(_FAST_GPU_OPTIONS)
    if unknown:
        raise KeyError(f'fast_gpu_training: unknown option(s) {sorted(unknown)}; the options are '
                       f'{", ".join(_FAST_GPU_OPTIONS)}')
    from mmengine.device import is_cuda_available
    if not is_cuda_available():
        print_log('fast_gpu_training: no CUDA device; bf16 autocast, channels_last, the fused optimizer and compile '
                  'are left off (the run is the plain fp32 one)', logger='current', level=logging.WARNING)
        return
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.dtype = 'bfloat16'
    cfg.optim_wrapper.loss_scale = dict(enabled=False)  # GradScaler off: bf16 has fp32's exponent range
    optimizer = cfg.optim_wrapper.get('optimizer')
    if switch.get('fused_optimizer', True) and optimizer and optimizer.get('type') in _FUSED_OPTIMIZERS:
        optimizer.setdefault('fused', True)  # one kernel for all parameters instead of a few per parameter
    hooks = list(cfg.get('custom_hooks') or [])
    if not any((_hook_type(h) or '').endswith('FastGPUTrainingHook') for h in hooks):
        hooks.append(dict(type=FAST_GPU_TRAINING_HOOK, compile=switch.get('compile', False),
                          compile_mode=switch.get('compile_mode')))
    cfg.custom_hooks = hooks


#: ``fast_gpu_training``'s options, and the torch optimizers with a fused CUDA kernel.
_FAST_GPU_OPTIONS = ('compile', 'compile_mode', 'fused_optimizer')
_FUSED_OPTIMIZERS = ('Adam', 'AdamW', 'SGD')


def _set_deterministic(cfg: Config) -> None:
    randomness = dict(cfg.get('randomness') or {})
    if randomness.get('seed') is None:
        randomness['seed'] = 0  # deterministic algorithms without a fixed seed would still differ run to run
    randomness['deterministic'] = True
    cfg.randomness = randomness


def prepare_train_config(args: argparse.Namespace, *, lock: bool = False) -> Config:
    """Config for ``tools/train.py`` with the CLI flags applied (see module docstring). With ``lock``, the work dir
    is locked (:func:`lock_work_dir`) before it is checked, for the rest of this process's life."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    _set_work_dir(cfg, args)
    if lock:
        lock_work_dir(cfg.work_dir, args.launcher)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.amp and not _has_accelerator():
        raise NoAcceleratorError('--amp (AmpOptimWrapper) needs a GPU/NPU/MLU; none is available on this machine')
    if args.amp and cfg.optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.fast_gpu:
        cfg.fast_gpu_training = dict(cfg.get('fast_gpu_training') or {}, compile=args.compile)
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
            raise UsageError(f'{args.config}: --auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...)')
        cfg.auto_scale_lr.enable = True
    _enable_visualization(cfg, args)
    if args.deterministic:
        _set_deterministic(cfg)
    use_crash_safe_hooks(cfg)
    if cfg.get('resume', False):
        _check_resume_checkpoint(cfg)
    existing = _checkpoints_in(cfg.work_dir)
    if existing and not cfg.get('resume', False):
        raise WorkDirNotEmptyError(
            f'work dir {cfg.work_dir} already holds checkpoints ({", ".join(map(osp.basename, existing[:3]))}'
            f'{" ..." if len(existing) > 3 else ""}); training from scratch would overwrite them. Pass --resume '
            'to continue that run, or choose another --work-dir.')
    return cfg


def _resume_checkpoint(cfg: Config) -> Optional[str]:
    """The checkpoint mmengine's Runner will resume from: ``load_from``, else the one ``last_checkpoint`` names."""
    if cfg.get('load_from'):
        return cfg.load_from
    last = osp.join(cfg.work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        return None
    with open(last) as f:
        return f.read().strip() or None


def _checkpoint_number(path: str) -> int:
    match = re.fullmatch(r'(?:epoch|iter)_(\d+)\.pth', osp.basename(path))
    return int(match.group(1)) if match else -1


def _check_resume_checkpoint(cfg: Config) -> None:
    """Refuse to resume from a checkpoint that cannot be read, naming it and the newest intact ``epoch_N.pth`` /
    ``iter_N.pth`` of the work dir (the message only suggests it: nothing is loaded in its place)."""
    path = _resume_checkpoint(cfg)
    if path is None or not osp.isfile(path) and not cfg.get('load_from'):
        return  # nothing to resume from: mmengine trains from scratch, as without our tools
    try:
        compat.load_checkpoint_safely(path, map_location='cpu')
    except (compat.UnreadableCheckpointError, compat.UnsafeCheckpointError) as err:
        named_by = '' if cfg.get('load_from') else f' (named by {osp.join(cfg.work_dir, "last_checkpoint")})'
        message = f'cannot resume from {path}{named_by}: {error_message(err)}.'
        for older in sorted(_checkpoints_in(cfg.work_dir), key=_checkpoint_number, reverse=True):
            if _checkpoint_number(older) < 0 or osp.abspath(older) == osp.abspath(path):
                continue
            try:
                compat.load_checkpoint_safely(older, map_location='cpu')
            except (compat.UnreadableCheckpointError, compat.UnsafeCheckpointError):
                continue
            message += (f' Resume from {osp.basename(older)} instead (--resume {older}), or pass --resume PATH.')
            break
        else:
            message += ' The work dir holds no intact checkpoint to resume from: pass --resume PATH.'
        raise UsageError(message) from err


def launch_rank(launcher: str) -> int:
    """This process's global rank as its launcher gives it (``RANK`` for torchrun, ``SLURM_PROCID``,
    ``OMPI_COMM_WORLD_RANK``), before torch.distributed starts; 0 without a launcher."""
    names = dict(none=(), pytorch=('RANK',), slurm=('SLURM_PROCID', 'RANK'),
                 mpi=('OMPI_COMM_WORLD_RANK', 'PMI_RANK', 'RANK')).get(launcher, ('RANK',))
    return next((int(os.environ[name]) for name in names if os.environ.get(name, '').isdigit()), 0)


class WorkDirLock:
    """An advisory lock (``fcntl.flock``) on ``WORK_DIR/.train.lock``, taken by :func:`lock_work_dir`. The kernel
    releases it when the process ends, however it ends (``kill -9`` included), so no lock is ever stale; the file
    stays (it holds the last holder's PID and start time)."""

    FILE_NAME = '.train.lock'

    def __init__(self, work_dir: str) -> None:
        self.path = osp.join(work_dir, self.FILE_NAME)
        os.makedirs(work_dir, exist_ok=True)
        self._fd: Optional[int] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder()
            os.close(self._fd)
            self._fd = None
            raise WorkDirLockedError(
                f'work dir {work_dir} is in use by another training run ({holder}); wait for it to end, or choose '
                'another --work-dir') from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, json.dumps(dict(
            pid=os.getpid(), host=socket.gethostname(),
            started=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
            argv=sys.argv)).encode() + b'\n')
        os.fsync(self._fd)

    def _read_holder(self) -> str:
        try:
            with open(self.path) as f:
                info = json.load(f)
            return f'PID {info["pid"]} on {info["host"]}, started {info["started"]}'
        except (OSError, ValueError, KeyError, TypeError):
            return 'its PID is not recorded yet'  # it has the lock but has not written the file yet

    def release(self) -> None:
        """Give the lock up (the process's end does it too)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_held_locks: list = []  # the locks of this process's runs, held until it ends


def lock_work_dir(work_dir: str, launcher: str = 'none') -> Optional[WorkDirLock]:
    """Take the work dir's lock for the rest of this process's life, or refuse (:class:`WorkDirLockedError`
    naming the holder's PID, host and start time) when another run holds it. Only the launch's rank 0 takes it
    (:func:`launch_rank`): the other ranks of a distributed run share the work dir and return None."""
    if launch_rank(launcher) != 0:
        return None
    lock = WorkDirLock(work_dir)
    _held_locks.append(lock)
    return lock


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
