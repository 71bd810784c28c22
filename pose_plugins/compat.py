"""The few adapters our dependency stack needs; each is small, tested, and a no-op where it is not needed.

1. **Safe checkpoint loading on torch >= 2.6.** torch now loads with ``weights_only=True``; a checkpoint written
   by mmengine 0.10.7's Runner then fails to load, because its ``message_hub`` pickles numpy arrays/scalars,
   mmengine's ``HistoryBuffer`` and ``builtins.getattr`` (``HistoryBuffer`` keeps its statistics methods as
   ``getattr(HistoryBuffer, 'mean')``). We do not turn the safe loader off: mmengine's local-file loader is
   replaced by :func:`load_checkpoint_safely`, which first tries plain ``weights_only=True`` and only then retries,
   still with torch's ``weights_only`` unpickler, inside a *scoped* allowlist of numpy's array/dtype/scalar types,
   ``HistoryBuffer`` and a narrowed ``getattr`` that resolves nothing but ``HistoryBuffer``'s own statistics
   methods. Anything else a pickle asks for (``os.system``, ``builtins.eval`` ...) is refused with
   :class:`UnsafeCheckpointError` naming the file and the global.
2. **Distributed training on CPU.** mmengine's ``--launcher pytorch`` calls ``torch.cuda.set_device`` and wraps the
   model with ``device_ids=[LOCAL_RANK]``. :func:`setup_cpu_distributed` (called by ``tools/train.py`` and
   ``tools/test.py``) starts a gloo process group itself when no GPU is present and sets DDP's ``device_ids=None``;
   with GPUs it does nothing and mmengine's NCCL path runs unchanged.
3. **mmpose's visualizer without torchvision.** mmpose's visualizer imports ``torchvision.transforms.ToPILImage``
   at import time, and no CPU torchvision exists for our torch. The start-up hook installed with the package
   (``pose_plugins_startup.pth`` -> :mod:`_pose_plugins_startup`) lets ``import torchvision`` find a small stand-in
   (``torchvision.__version__ == '0.0+pose_plugins.stand_in'``) in every interpreter, before anything imports us,
   and only when no torchvision is installed. :func:`install_torchvision_stand_in` makes sure of it where the hook
   did not run (``python -S``, a checkout on ``PYTHONPATH`` that was never installed).
"""
from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
from typing import Any, MutableMapping, Optional

import numpy as np
import torch

__all__ = [
    'UnsafeCheckpointError', 'install', 'install_safe_checkpoint_loader', 'install_torchvision_stand_in',
    'load_checkpoint_safely', 'setup_cpu_distributed'
]


def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split('.')[:2]
    return int(major), int(''.join(ch for ch in minor if ch.isdigit()) or 0)


def install() -> None:
    """Install every adapter that the running stack needs (idempotent). Called by ``import pose_plugins``."""
    install_torchvision_stand_in()
    install_safe_checkpoint_loader()


# --------------------------------------------------------------------------------------------------------------
# 1. safe checkpoint loading
# --------------------------------------------------------------------------------------------------------------
class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint's pickle asks for a global outside the safe allowlist; it was not loaded."""


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
    """The allowlist beyond torch's defaults that an mmengine 0.10.7 checkpoint needs."""
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
    # numpy scalar types (np.float32, np.int64 ...) appear as dtype constructors' arguments
    allowed += sorted({t for ts in np.sctypes.values() for t in ts} if hasattr(np, 'sctypes') else
                      {np.dtype(c).type for c in np.typecodes['All'] if c not in 'Mm'}, key=str)
    return allowed


def load_checkpoint_safely(filename: str, map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint with torch's ``weights_only`` unpickler and nothing looser.

    Plain state dicts and tensors load with ``weights_only=True`` as torch does by default; a full mmengine
    checkpoint (with ``message_hub``/``meta``) is retried inside a scoped allowlist (see module docstring).

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the pickle asks for a global outside the allowlist (it would run code).
    """
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
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
    """Route mmengine's local-file checkpoint scheme (``''`` prefix) through :func:`load_checkpoint_safely`.

    Covers ``Runner.load_checkpoint``/``resume``, mmengine's ``load_checkpoint`` and so mmpose's ``init_model`` and
    inferencer. A no-op on torch < 2.6, where ``torch.load`` is unrestricted by default anyway.
    """
    if _torch_version() < (2, 6):
        return
    from mmengine.runner.checkpoint import CheckpointLoader
    if CheckpointLoader._schemes.get('') is load_checkpoint_safely:
        return
    CheckpointLoader.register_scheme(prefixes='', loader=load_checkpoint_safely, force=True)


# --------------------------------------------------------------------------------------------------------------
# 2. CPU distributed
# --------------------------------------------------------------------------------------------------------------
def setup_cpu_distributed(cfg: Any, launcher: str) -> bool:
    """Prepare ``cfg`` for a distributed run without GPUs; a no-op when CUDA is available or not distributed.

    Starts the default process group with gloo (so mmengine skips its ``init_dist``, which would call
    ``torch.cuda.set_device``) and makes the DDP wrapper use ``device_ids=None``.

    Args:
        cfg (mmengine.Config): the run's config; ``model_wrapper_cfg`` and ``env_cfg.dist_cfg`` are updated.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: whether the CPU path was taken.
    """
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
    """Fill torch's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` from Slurm's
    variables where unset (what mmengine's slurm launcher does, minus its ``torch.cuda.set_device``).

    Raises:
        KeyError: naming the Slurm variable that is missing (the process was not started by ``srun``).
    """
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


# --------------------------------------------------------------------------------------------------------------
# 3. torchvision stand-in for mmpose's visualizer
# --------------------------------------------------------------------------------------------------------------
def install_torchvision_stand_in() -> bool:
    """Let ``import torchvision`` find pose_plugins' stand-in when (and only when) torchvision is not installed.

    Idempotent; the start-up hook has normally done it already. Honours ``POSE_PLUGINS_TORCHVISION_STAND_IN=0``.

    Returns:
        bool: whether ``import torchvision`` gives (or already gave) the stand-in; False with a real torchvision.

    Raises:
        ModuleNotFoundError: the start-up module ``_pose_plugins_startup`` (installed beside the package) is missing.
    """
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
