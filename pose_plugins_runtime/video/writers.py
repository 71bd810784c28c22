"""Outputs of pose on video: an annotated video file and JSON lines of predictions, neither over an existing file."""
from __future__ import annotations

import json
import os
import os.path as osp
from typing import IO, Any, Dict, Optional, Tuple

import cv2
import numpy as np

__all__ = ['JsonLinesWriter', 'VideoFileWriter', 'refuse_existing']

_FOURCC = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG', '.mkv': 'MJPG'}


def refuse_existing(*paths: Optional[str]) -> None:
    """Raise FileExistsError naming the first of ``paths`` that exists (None entries are ignored)."""
    for path in paths:
        if path is not None and osp.lexists(path):
            raise FileExistsError(f'{path} exists; choose another output path (results are never overwritten)')


def _make_parent(path: str) -> None:
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)


class VideoFileWriter:
    """Writes BGR frames (H, W, 3) uint8 to ``path`` (``.mp4``/``.mov``/``.m4v``: MPEG-4 part 2; ``.avi``/``.mkv``:
    Motion JPEG) at ``fps``; the frame size is fixed by the first frame. Raises FileExistsError if ``path`` exists,
    ValueError for another suffix, OSError when OpenCV cannot open the file for writing."""

    def __init__(self, path: str, *, fps: float) -> None:
        suffix = osp.splitext(path)[1].lower()
        if suffix not in _FOURCC:
            raise ValueError(f'video output {path}: suffix must be one of {sorted(_FOURCC)}, got {suffix!r}')
        refuse_existing(path)
        self.path, self.fps, self.frames_written = path, float(fps), 0
        self._writer: Optional[cv2.VideoWriter] = None
        self._size: Optional[Tuple[int, int]] = None

    def write(self, image: np.ndarray) -> None:
        """Append one frame; a frame of another size than the first is resized to it."""
        height, width = image.shape[:2]
        if self._writer is None:
            refuse_existing(self.path)  # created by someone else since construction
            _make_parent(self.path)
            self._size = (width, height)
            self._writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*_FOURCC[osp.splitext(
                self.path)[1].lower()]), self.fps, self._size)
            if not self._writer.isOpened():
                raise OSError(f'OpenCV cannot write video {self.path}')
        if (width, height) != self._size:
            image = cv2.resize(image, self._size)
        self._writer.write(np.ascontiguousarray(image))
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file (a video stopped early stays playable)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None


class JsonLinesWriter:
    """Writes one JSON object per line to ``path`` (created; FileExistsError if it exists), flushed per line so
    that a stopped run keeps every frame written so far."""

    def __init__(self, path: str) -> None:
        refuse_existing(path)
        _make_parent(path)
        self.path, self.lines_written = path, 0
        self._file: Optional[IO[str]] = open(path, 'x')

    def write(self, record: Dict[str, Any]) -> None:
        """Append ``record`` as one line (numpy values become lists and numbers)."""
        assert self._file is not None, f'{self.path} is closed'
        self._file.write(json.dumps(record, default=_to_json, separators=(',', ':')) + '\n')
        self._file.flush()
        self.lines_written += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f'{type(value).__name__} is not JSON serialisable')
