"""Adapters our dependency stack needs, each a no-op where it is not needed: safe loading of mmengine checkpoints
under torch >= 2.6 (:func:`load_checkpoint_safely`), distributed training on CPU (:func:`setup_cpu_distributed`)
and a torchvision stand-in for mmpose's visualizer where none is installed (:func:`install_torchvision_stand_in`);
clear errors for unreadable checkpoints, and the block our tools run in that drops known third-party noise
(:func:`quiet_known_messages`).
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pickle
import re
import subprocess
import sys
import warnings
import zipfile
from typing import Any, Iterator, MutableMapping, Optional

import numpy as np
import torch

__all__ = [
    'KNOWN_LOG_MESSAGES', 'KNOWN_WARNINGS', 'UnreadableCheckpointError', 'UnsafeCheckpointError', 'install',
    'install_safe_checkpoint_loader', 'install_torchvision_stand_in', 'load_checkpoint_safely', 'quiet_known_messages',
    'setup_cpu_distributed'
]


def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split('.')[:2]
    return int(major), int(''.join(ch for ch in minor if ch.isdigit()) or 0)


def install() -> None:
    """Install every adapter the running stack needs (idempotent); ``import pose_plugins`` calls it."""
    install_torchvision_stand_in()
    install_safe_checkpoint_loader()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint's pickle asks for a global outside the safe allowlist; it was not loaded."""


class UnreadableCheckpointError(ValueError):
    """A checkpoint file cannot be read (empty, truncated, corrupted, not a torch checkpoint); the message names the
    file and the reason."""


def _looks_like_a_checkpoint(filename: str) -> bool:
    """Whether ``filename`` is a complete zip archive (torch's format) or a pickle (torch's legacy format)."""
    with open(filename, 'rb') as f:
        head = f.read(2)
    return head.startswith(b'\x80') or head == b'PK' and zipfile.is_zipfile(filename)


def _why_unreadable(filename: str, err: Optional[BaseException]) -> str:
    """The reason, in words, why torch could not read ``filename`` (``err``: what torch raised, if it tried)."""
    size = os.path.getsize(filename)
    if size == 0:
        return 'the file is empty (0 bytes)'
    with open(filename, 'rb') as f:
        head = f.read(4)
    said = next((line.strip() for line in str(err or '').split('\n') if line.strip()), '')
    said = f' (torch: {type(err).__name__}: {said.split(". ")[0][:200]})' if said else ''
    if head.startswith(b'PK'):
        if not zipfile.is_zipfile(filename):
            return (f'it is truncated: a zip archive of {size} bytes without its end (central directory), e.g. from '
                    'an interrupted save or copy')
        return f'it is corrupted: a complete zip archive whose contents torch cannot read{said}'
    if not head.startswith(b'\x80'):
        return f'it is not a torch checkpoint (neither a zip archive nor a pickle, {size} bytes)'
    return f'it is not a readable torch checkpoint (a pickle torch cannot load){said}'


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` narrowed to what mmengine's ``HistoryBuffer`` pickles: its own statistics methods."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) and not name.startswith('_') \
            and callable(getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'getattr({getattr(obj, "__qualname__", type(obj).__name__)!r}, {name!r}) is not allowed while loading '
        'a checkpoint (only HistoryBuffer statistics methods are)')


def _mmengine_checkpoint_globals() -> list:
    """The allowlist, beyond torch's defaults, of an mmengine 0.10.7 checkpoint."""
    from mmengine.logging import HistoryBuffer
    np_core = np._core if hasattr(np, '_core') else np.core  # numpy 2 moved numpy.core to numpy._core
    allowed: list = [
        np.ndarray, np.dtype, np_core.multiarray._reconstruct, np_core.multiarray.scalar, HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    if np_core is not getattr(np, 'core', None):  # files written under numpy 1 name numpy.core.multiarray
        allowed += [(np_core.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
                    (np_core.multiarray.scalar, 'numpy.core.multiarray.scalar')]
    # numpy 2 pickles a dtype through its class, e.g. numpy.dtypes.Float32DType
    allowed += [cls for cls in vars(np.dtypes).values() if isinstance(cls, type) and issubclass(cls, np.dtype)]
    # numpy scalar types appear as dtype constructor arguments
    allowed += sorted({t for ts in np.sctypes.values() for t in ts} if hasattr(np, 'sctypes') else
                      {np.dtype(c).type for c in np.typecodes['All'] if c not in 'Mm'}, key=str)
    return allowed


def load_checkpoint_safely(filename: str, map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint with torch's ``weights_only`` unpickler, retrying a full mmengine
    checkpoint with the allowlist of :func:`_mmengine_checkpoint_globals` (numpy arrays, ``HistoryBuffer``).

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the pickle asks for a global outside the allowlist.
        UnreadableCheckpointError: the file is empty, truncated, corrupted or not a torch checkpoint (the message
            names the file and the reason, instead of torch's ``PytorchStreamReader failed ...``).
    """
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
    if not _looks_like_a_checkpoint(filename):  # torch would report a pickle opcode or a miniz error
        raise UnreadableCheckpointError(f'checkpoint {filename} cannot be read: {_why_unreadable(filename, None)}')
    try:
        return _load_allowlisted(filename, map_location)
    except (RuntimeError, EOFError, KeyError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as err:
        if isinstance(err, UnsafeCheckpointError) or (isinstance(err, RuntimeError) and 'CUDA' in str(err)):
            raise  # a refused global; a CUDA checkpoint on a machine without CUDA: torch's message says it
        raise UnreadableCheckpointError(f'checkpoint {filename} cannot be read: {_why_unreadable(filename, err)}') \
            from err


def _load_allowlisted(filename: str, map_location: Optional[Any]) -> Any:
    """:func:`load_checkpoint_safely` without the check of the file and the wrapping of torch's read errors."""
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        pass
    try:
        with torch.serialization.safe_globals(_mmengine_checkpoint_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except UnsafeCheckpointError as err:
        raise UnsafeCheckpointError(f'refusing to load checkpoint {filename}: {err}') from None
    except pickle.UnpicklingError as err:
        reason = str(err).split('\n')
        detail = next((line.strip() for line in reason if 'GLOBAL' in line or 'Unsupported' in line), reason[0])
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {filename}: its pickle needs a global outside the safe allowlist '
            f'(tensors, numpy arrays, mmengine HistoryBuffer), so loading it could run arbitrary code. '
            f'torch said: {detail}') from None


def install_safe_checkpoint_loader() -> None:
    """Route mmengine's local-file checkpoint loading (``Runner``, ``load_checkpoint``, mmpose's
    ``init_model``) through :func:`load_checkpoint_safely`; a no-op on torch < 2.6."""
    if _torch_version() < (2, 6):
        return
    from mmengine.runner.checkpoint import CheckpointLoader
    if CheckpointLoader._schemes.get('') is load_checkpoint_safely:
        return
    CheckpointLoader.register_scheme(prefixes='', loader=load_checkpoint_safely, force=True)


def setup_cpu_distributed(cfg: Any, launcher: str) -> bool:
    """Prepare ``cfg`` for distributed training without GPUs: start gloo (mmengine's ``init_dist``
    calls ``torch.cuda.set_device``) and set DDP's ``device_ids=None``. Returns False (a no-op) with CUDA or
    ``launcher='none'``."""
    if launcher == 'none' or torch.cuda.is_available():
        return False
    import torch.distributed as dist
    dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    dist_cfg['backend'] = 'gloo'
    cfg.setdefault('env_cfg', {})['dist_cfg'] = dist_cfg
    if not dist.is_initialized():
        if launcher == 'slurm':
            _slurm_env_to_torch_env(os.environ)
        if launcher in ('pytorch', 'slurm'):  # mmengine's slurm set-up calls torch.cuda.set_device
            dist.init_process_group(backend='gloo')
        else:
            from mmengine.dist import init_dist
            init_dist(launcher, backend='gloo')
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True


def _slurm_env_to_torch_env(env: MutableMapping[str, str]) -> None:
    """Fill torch's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_*`` from Slurm's variables
    where unset; a KeyError names a missing one."""
    for torch_name, slurm_name in (('RANK', 'SLURM_PROCID'), ('WORLD_SIZE', 'SLURM_NTASKS')):
        if torch_name not in env:
            if slurm_name not in env:
                raise KeyError(f'--launcher slurm needs {slurm_name} (set by srun) or {torch_name}')
            env[torch_name] = env[slurm_name]
    env.setdefault('LOCAL_RANK', env.get('SLURM_LOCALID', '0'))
    env.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in env:
        if 'SLURM_NODELIST' not in env:
            raise KeyError('--launcher slurm needs SLURM_NODELIST (set by srun) or MASTER_ADDR')
        env['MASTER_ADDR'] = subprocess.getoutput(f'scontrol show hostnames {env["SLURM_NODELIST"]} | head -n1')


def install_torchvision_stand_in() -> bool:
    """Let ``import torchvision`` find our stand-in if no torchvision is installed (idempotent; off with
    ``POSE_PLUGINS_TORCHVISION_STAND_IN=0``); whether it is the stand-in. Needs ``_pose_plugins_startup``."""
    try:
        import _pose_plugins_startup as startup
    except ModuleNotFoundError as err:
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        raise ModuleNotFoundError(
            f'pose_plugins: its start-up module _pose_plugins_startup.py is not importable (expected beside the '
            f'package, in {package_parent}); reinstall pose_plugins (bash scripts/setup.sh or pip install .)',
            name='_pose_plugins_startup') from err
    startup.install()
    if 'torchvision' in sys.modules:
        return startup.is_stand_in(sys.modules['torchvision'])
    spec = importlib.util.find_spec('torchvision')
    return spec is not None and spec.origin is not None \
        and os.path.dirname(os.path.dirname(spec.origin)) == startup.STAND_IN_DIR


#: Third-party warnings a user of our tools can do nothing about: (message regex, module regex of the warning's
#: origin). mmengine's ``get_installed_path`` imports the deprecated ``pkg_resources``; mmpose's datasets name their
#: keypoint metainfo by a path relative to mmpose's checkout and fall back to the installed copy, warning each time;
#: mmdet 3.2.0's detectors call torch's deprecated ``torch.cuda.amp.autocast`` and ``meshgrid`` without ``indexing``.
KNOWN_WARNINGS = (
    (r'pkg_resources is deprecated as an API', r'mmengine\.utils\.package_utils'),
    (r'`torch\.cuda\.amp\.autocast\(args\.\.\.\)` is deprecated', r'mmdet\.'),
    (r'torch\.meshgrid: in an upcoming release, it will be required to pass the indexing argument',
     r'torch\.functional'),
    (r'The metainfo config file "configs/_base_/datasets/\w+\.py" does not exist\. A matched config file "[^"]*'
     r'/mmpose/\.mim/configs/_base_/datasets/\w+\.py" will be used instead\.', r'mmpose\.datasets\.datasets\.utils'),
)
#: mmengine log messages of the same kind: mmpose has no "function" registry, so mmengine's inferencer, looking up
#: ``pseudo_collate`` under the scope "mmpose", falls back to mmengine's registry (the right one) and says so.
KNOWN_LOG_MESSAGES = (
    re.compile(r'Failed to search registry with scope "mmpose" in the "function" registry tree\. As a workaround, '
               r'the current "function" registry in "mmengine" is used to build instance\.'),
)


class _KnownLogMessageFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(p.match(record.getMessage()) for p in KNOWN_LOG_MESSAGES)


@contextlib.contextmanager
def quiet_known_messages() -> Iterator[None]:
    """Within the block, drop exactly the :data:`KNOWN_WARNINGS` and, from mmengine's current logger,
    the :data:`KNOWN_LOG_MESSAGES`; every other warning and log line passes. Our tools run inside it."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    quiet = _KnownLogMessageFilter()
    logger.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            for message, module in KNOWN_WARNINGS:
                warnings.filterwarnings('ignore', message=message, module=module)
            yield
    finally:
        logger.removeFilter(quiet)
