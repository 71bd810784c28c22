"""mmengine's local file backend with atomic ``put`` / ``put_text``.

Registered in mmengine's file-backend table under its own name, ``pose_plugins_atomic_local``, so nothing changes
for code that asks for mmengine's ``local`` backend; :class:`~pose_plugins.engine.CrashSafeCheckpointHook` asks
for this one (``backend_args=dict(backend='pose_plugins_atomic_local')``), and mmengine's ``Runner.save_checkpoint``
then writes every checkpoint through :func:`~pose_plugins.engine.atomic_io.atomic_write_bytes`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio.backends import backends

from .atomic_io import atomic_write_bytes, atomic_write_text

__all__ = ['ATOMIC_LOCAL_BACKEND', 'AtomicLocalBackend']

ATOMIC_LOCAL_BACKEND = 'pose_plugins_atomic_local'


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose writes replace the target atomically (temp file, fsync,
    rename, directory fsync): a reader sees the old complete file or the new complete file."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_text(filepath, obj, encoding=encoding)


if backends.get(ATOMIC_LOCAL_BACKEND) is not AtomicLocalBackend:
    register_backend(ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, force=True)
