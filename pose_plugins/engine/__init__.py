"""Training hooks: crash-safe checkpoints, RNG state for exact resume, logs read without per-step host syncs,
channels_last / compile."""
from .atomic_io import atomic_write_bytes, atomic_write_text, remove_partial_files
from .atomic_local_backend import ATOMIC_LOCAL_BACKEND, AtomicLocalBackend
from .crash_safe_checkpoint_hook import CrashSafeCheckpointHook
from .fast_gpu_training_hook import FastGPUTrainingHook
from .lazy_runtime_info_hook import LazyRuntimeInfoHook, read_scalars
from .rng_state import get_rng_state, set_rng_state
from .rng_state_hook import RESUME_KEY, RNGStateHook

__all__ = [
    'ATOMIC_LOCAL_BACKEND', 'AtomicLocalBackend', 'CrashSafeCheckpointHook', 'FastGPUTrainingHook',
    'LazyRuntimeInfoHook', 'RESUME_KEY', 'RNGStateHook', 'atomic_write_bytes', 'atomic_write_text', 'get_rng_state',
    'read_scalars', 'remove_partial_files', 'set_rng_state'
]
