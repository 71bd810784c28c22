"""Frames from a video file, a camera, an image or a folder of images, with OpenCV (:func:`open_source`)."""
from __future__ import annotations

import os
import os.path as osp
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple

import cv2
import numpy as np

__all__ = ['Frame', 'FrameSource', 'IMAGE_SUFFIXES', 'VIDEO_SUFFIXES', 'folder_images', 'is_video_input',
           'open_source']

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv', '.flv', '.gif')
#: A stream that fails to decode this many frames in a row is taken as ended (a broken tail).
MAX_CONSECUTIVE_FAILURES = 25


@dataclass
class Frame:
    """One decoded frame: its index in the source (0-based, counting skipped frames), its time in seconds (index /
    fps for files and image sequences, since the first frame for cameras), the BGR uint8 image (H, W, 3) and a name
    (the image file, or ``frame_<index>``)."""

    index: int
    time: float
    image: np.ndarray
    name: str


class FrameSource:
    """Iterates :class:`Frame` objects of one input; frames that fail to decode are skipped with a warning and
    counted in :attr:`skipped`. ``fps`` is the stream's rate (a camera's or a file's; ``default_fps`` where it
    has none), ``num_frames`` the count announced by the file (None for cameras)."""

    def __init__(self, description: str, frames: Callable[['FrameSource'], Iterator[Frame]], *, fps: float,
                 num_frames: Optional[int], release: Callable[[], None] = lambda: None) -> None:
        self.description = description
        self.fps = float(fps)
        self.num_frames = num_frames
        self.skipped: List[int] = []
        self._frames = frames
        self._release = release

    def __iter__(self) -> Iterator[Frame]:
        try:
            yield from self._frames(self)
        finally:
            self._release()

    def close(self) -> None:
        """Release the capture device or file."""
        self._release()

    def skip(self, index: int, why: str) -> None:
        """Count frame ``index`` as skipped and warn, naming the source and the frame."""
        self.skipped.append(index)
        warnings.warn(f'{self.description}: frame {index} skipped ({why})', RuntimeWarning, stacklevel=2)


def folder_images(folder: str) -> List[str]:
    """The image files (:data:`IMAGE_SUFFIXES`) of ``folder``, sorted by name; FileNotFoundError naming the
    folder when it holds none."""
    images = sorted(osp.join(folder, n) for n in os.listdir(folder) if n.lower().endswith(IMAGE_SUFFIXES))
    if not images:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in folder {folder}')
    return images


def is_video_input(spec: str) -> bool:
    """Whether ``spec`` names a video file (by suffix) or a camera (a non-negative integer index)."""
    return spec.isdigit() or osp.splitext(spec)[1].lower() in VIDEO_SUFFIXES


def open_source(spec: str, *, default_fps: float = 25.0,
                capture_factory: Callable[..., cv2.VideoCapture] = cv2.VideoCapture) -> FrameSource:
    """Open ``spec``: a camera index (``'0'``), a video file, an image file or a folder of images (sorted by name).

    Args:
        spec: what to read.
        default_fps: the rate given to image sequences and to streams that report none.
        capture_factory: builds the ``cv2.VideoCapture`` (replaceable in tests).

    Raises:
        FileNotFoundError: ``spec`` is not a camera index and no such file or folder exists, or the folder holds no
            images.
        ValueError: the video file cannot be opened (not a video, or a codec OpenCV lacks), or no camera has that
            index. Both before any frame is read.
    """
    if default_fps <= 0:
        raise ValueError(f'default_fps must be > 0, got {default_fps!r}')
    if spec.isdigit():
        return _camera(int(spec), default_fps, capture_factory)
    if osp.isdir(spec):
        return _image_sequence(spec, folder_images(spec), default_fps)
    if not osp.isfile(spec):
        raise FileNotFoundError(f'input {spec} is neither a camera index, a video, an image nor a folder')
    if osp.splitext(spec)[1].lower() in IMAGE_SUFFIXES:
        return _image_sequence(spec, [spec], default_fps)
    return _video_file(spec, default_fps, capture_factory)


def _image_sequence(description: str, images: List[str], fps: float) -> FrameSource:
    def frames(source: FrameSource) -> Iterator[Frame]:
        for index, path in enumerate(images):
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                source.skip(index, f'{path} is not a readable image')
                continue
            yield Frame(index, index / fps, image, osp.basename(path))
    return FrameSource(description, frames, fps=fps, num_frames=len(images))


def _open_capture(target: object, default_fps: float, capture_factory: Callable[..., cv2.VideoCapture],
                  refusal: str) -> Tuple[cv2.VideoCapture, float, Optional[int]]:
    """The opened capture of ``target``, its rate (``default_fps`` where it reports none) and announced frame count
    (None where it has none); ValueError(``refusal``) when it does not open."""
    capture = capture_factory(target)
    if not capture.isOpened():
        capture.release()
        raise ValueError(refusal)
    fps = capture.get(cv2.CAP_PROP_FPS)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return capture, (fps if np.isfinite(fps) and fps > 0 else default_fps), (count if count > 0 else None)


def _video_file(path: str, default_fps: float, capture_factory: Callable[..., cv2.VideoCapture]) -> FrameSource:
    capture, fps, count = _open_capture(path, default_fps, capture_factory, f'cannot open video {path}: not a '
                                        'video file, or encoded with a codec OpenCV lacks')

    def frames(source: FrameSource) -> Iterator[Frame]:
        index, failures = 0, 0
        while count is None or index < count:
            ok, image = capture.read()
            if ok and image is not None:
                failures = 0
                yield Frame(index, index / fps, image, f'frame_{index:06d}')
            elif count is None:  # a stream of unknown length ends at its first unreadable frame
                return
            else:
                failures += 1
                if failures > MAX_CONSECUTIVE_FAILURES:
                    warnings.warn(f'{path}: stopped at frame {index} of {count} after {failures} frames in a row '
                                  'failed to decode', RuntimeWarning, stacklevel=2)
                    return
                source.skip(index, 'failed to decode')
            index += 1
    return FrameSource(path, frames, fps=fps, num_frames=count, release=capture.release)


def _camera(index: int, default_fps: float, capture_factory: Callable[..., cv2.VideoCapture]) -> FrameSource:
    capture, fps, _ = _open_capture(index, default_fps, capture_factory,
                                    f'camera {index} does not exist or cannot be opened')

    def frames(source: FrameSource) -> Iterator[Frame]:
        start, position, failures = time.monotonic(), 0, 0
        while True:
            ok, image = capture.read()
            if not ok or image is None:
                failures += 1
                if failures > MAX_CONSECUTIVE_FAILURES:
                    return  # the camera went away
                source.skip(position, 'failed to read from the camera')
            else:
                failures = 0
                yield Frame(position, time.monotonic() - start, image, f'frame_{position:06d}')
            position += 1
    return FrameSource(f'camera {index}', frames, fps=fps, num_frames=None, release=capture.release)
