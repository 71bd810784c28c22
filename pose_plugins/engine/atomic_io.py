"""Crash-safe file replacement: a file is either its old complete content or its new complete content, never a mix.

mmengine 0.10.7 writes checkpoints with a plain ``open(path, 'wb').write(...)`` (``LocalBackend.put``), so a crash,
a ``kill -9`` or a full disk during a save leaves a truncated ``epoch_N.pth`` under the final name. Here every write
goes to a temporary file in the same directory (so the rename never crosses file systems), is flushed and
``fsync``-ed, then renamed over the target with :func:`os.replace` (atomic on POSIX and Windows), and the directory
is ``fsync``-ed so the rename itself survives a power cut. A write that fails removes its temporary file; one that
is killed leaves it behind under a name no reader looks for (``.NAME.PID.partial``), and
:func:`remove_partial_files` clears those at the next start.
"""
from __future__ import annotations

import contextlib
import os
import re
from typing import Union

__all__ = ['PARTIAL_SUFFIX', 'atomic_write_bytes', 'atomic_write_text', 'fsync_directory', 'remove_partial_files']

PARTIAL_SUFFIX = '.partial'
_PARTIAL_NAME = re.compile(r'^\..+\.\d+' + re.escape(PARTIAL_SUFFIX) + '$')
_CHUNK = 1 << 20  # write in 1 MiB pieces: a failing disk raises part-way, as a real one does

PathLike = Union[str, os.PathLike]


def _write_all(fileobj, data: bytes) -> None:
    """Write ``data`` to ``fileobj`` in pieces (tests replace this to fail or stall after N bytes)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        fileobj.write(view[start:start + _CHUNK])


def fsync_directory(directory: PathLike) -> None:
    """Make a rename inside ``directory`` durable (POSIX; a no-op where directories cannot be opened)."""
    if os.name != 'posix':
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically: temp file in the same directory, flush + fsync, ``os.replace``,
    fsync of the directory. Creates the directory if needed.

    Raises:
        OSError: the write, fsync or rename failed (a full disk, ...); ``path`` is untouched and the temporary
            file is removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    partial = os.path.join(directory, f'.{os.path.basename(path)}.{os.getpid()}{PARTIAL_SUFFIX}')
    try:
        with open(partial, 'wb') as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(partial)
        raise
    fsync_directory(directory)


def atomic_write_text(path: PathLike, text: str, encoding: str = 'utf-8') -> None:
    """:func:`atomic_write_bytes` for text."""
    atomic_write_bytes(path, text.encode(encoding))


def remove_partial_files(directory: PathLike) -> list[str]:
    """Remove the temporary files that killed writes left in ``directory``; returns their paths.

    Only names of the form ``.NAME.PID.partial`` (what :func:`atomic_write_bytes` creates) are touched.
    """
    if not os.path.isdir(directory):
        return []
    removed = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if _PARTIAL_NAME.match(name) and os.path.isfile(path):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
                removed.append(path)
    return removed
