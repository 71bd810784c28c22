"""mmengine's local file backend with atomic ``put`` / ``put_text``, registered as ``pose_plugins_atomic_local``
(mmengine's ``local`` backend is unchanged)."""
from __future__ import annotations

from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio.backends import backends

from .atomic_io import atomic_write_bytes, atomic_write_text

__all__ = ['ATOMIC_LOCAL_BACKEND', 'AtomicLocalBackend']

ATOMIC_LOCAL_BACKEND = 'pose_plugins_atomic_local'


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose writes replace the target atomically (:mod:`.atomic_io`)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_text(filepath, obj, encoding=encoding)


if backends.get(ATOMIC_LOCAL_BACKEND) is not AtomicLocalBackend:
    register_backend(ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, force=True)
