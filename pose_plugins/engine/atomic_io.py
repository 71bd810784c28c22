"""Crash-safe file replacement: a file holds its old or its new complete content, never a mix.

Writes go to ``.NAME.PID.partial`` in the same directory, are fsync-ed, :func:`os.replace`-d over the target and
the directory fsync-ed; a killed write leaves only the partial file (:func:`remove_partial_files`).
"""
from __future__ import annotations

import contextlib
import os
import re
from typing import Union

__all__ = ['PARTIAL_SUFFIX', 'atomic_write_bytes', 'atomic_write_text', 'fsync_directory', 'remove_partial_files']

PARTIAL_SUFFIX = '.partial'
_PARTIAL_NAME = re.compile(r'^\..+\.\d+' + re.escape(PARTIAL_SUFFIX) + '$')
_CHUNK = 1 << 20  # 1 MiB pieces: a failing disk raises part-way

PathLike = Union[str, os.PathLike]


def _write_all(fileobj, data: bytes) -> None:
    """Write ``data`` in pieces (tests patch this to fail part-way)."""
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
    """Replace ``path`` by ``data`` atomically, creating its directory if needed.

    Raises:
        OSError: The write, fsync or rename failed; ``path`` is untouched and the temporary file removed.
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
    """Remove the ``.NAME.PID.partial`` files killed writes left in ``directory``; returns their paths."""
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
