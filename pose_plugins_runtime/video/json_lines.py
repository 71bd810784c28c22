"""Reading per-frame JSON lines (detections files, predictions) with errors that name the file and the line."""
from __future__ import annotations

import json
import os.path as osp
from typing import Any, Dict, Iterator, Tuple

__all__ = ['read_frame_lines']


def read_frame_lines(path: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """``(where, record)`` of each non-blank line of the JSON-lines file ``path``, in file order: ``where`` is
    ``'PATH, line N'`` for the caller's own messages, ``record`` an object with an int ``frame`` >= 0 that no
    earlier line has.

    Raises:
        FileNotFoundError: naming ``path`` when it is not a file.
        ValueError: naming the file and line of a line that is not JSON, not an object, has no valid ``frame``, or
            repeats a frame (with the line that had it first).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist')
    first_line: Dict[int, int] = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f'{path}, line {number}'
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{where}: not JSON ({err.msg})') from None
            if not isinstance(record, dict):
                raise ValueError(f'{where}: a frame must be a JSON object, got {type(record).__name__}')
            if 'frame' not in record:
                raise ValueError(f"{where}: field 'frame' is missing")
            frame = record['frame']
            if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
                raise ValueError(f"{where}: 'frame' must be an int >= 0, got {frame!r}")
            if frame in first_line:
                raise ValueError(f'{where}: frame {frame} again (first on line {first_line[frame]})')
            first_line[frame] = number
            yield where, record
