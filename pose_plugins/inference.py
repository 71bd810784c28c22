"""Inference through mmpose's ``MMPoseInferencer`` with one of our configs and a checkpoint.

Person boxes come from the whole image (one person filling the picture), or from boxes the caller gives.
mmpose 1.3.2's ``Pose2DInferencer.preprocess_single`` discards its ``bboxes`` argument when no detector is set,
so given boxes are fed through :class:`GivenBoxesDetector`, a stand-in detector that returns them.
"""
from __future__ import annotations

import logging
import os
import os.path as osp
from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.structures import InstanceData

from pose_plugins.datasets.image_file import image_file_problem

__all__ = ['GivenBoxesDetector', 'list_images', 'run_inference']

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


class GivenBoxesDetector:
    """A detector stand-in that returns fixed person boxes per image.

    Args:
        boxes (dict): image path (or basename) -> boxes, each ``[x1, y1, x2, y2]`` or ``[x1, y1, x2, y2, score]``
            in image pixels. Shape per image: (M, 4) or (M, 5).
    """

    def __init__(self, boxes: Dict[str, Sequence[Sequence[float]]]) -> None:
        if not isinstance(boxes, dict):
            raise ValueError(f'boxes must map image path (or basename) -> list of [x1, y1, x2, y2(, score)], '
                             f'got a {type(boxes).__name__}')
        self._boxes: Dict[str, np.ndarray] = {}
        for key, value in boxes.items():
            try:
                array = np.asarray(value, dtype=np.float32)
            except (TypeError, ValueError) as err:
                raise ValueError(f'boxes for {key!r} must be a list of [x1, y1, x2, y2(, score)] numbers, got '
                                 f'{value!r} ({err})') from err
            if array.size == 0:
                array = array.reshape(0, 4)
            if array.ndim != 2 or array.shape[1] not in (4, 5):
                hint = ' (one box is still a list of boxes: [[x1, y1, x2, y2]])' if array.ndim == 1 else ''
                raise ValueError(f'boxes for {key!r} must be [x1, y1, x2, y2(, score)] per box, shape (M, 4) or '
                                 f'(M, 5), got shape {array.shape}{hint}')
            if not np.isfinite(array).all():
                raise ValueError(f'boxes for {key!r} must be finite numbers, got {array.tolist()}')
            if np.any(array[:, 2] <= array[:, 0]) or np.any(array[:, 3] <= array[:, 1]):
                raise ValueError(f'boxes for {key!r} need x2 > x1 and y2 > y1, got {array[:, :4].tolist()}')
            if array.shape[1] == 4:
                array = np.concatenate([array, np.ones((len(array), 1), np.float32)], axis=1)
            self._boxes[key] = array

    def boxes_for(self, image: Any) -> np.ndarray:
        """(M, 5) boxes with scores for an image path; raises KeyError naming the image when it has none."""
        key = image if isinstance(image, str) else None
        for candidate in (key, osp.basename(key) if key else None):
            if candidate is not None and candidate in self._boxes:
                return self._boxes[candidate]
        raise KeyError(f'no boxes given for image {image if key else "<array>"}; known: {sorted(self._boxes)[:5]}')

    def __call__(self, image: Any, return_datasamples: bool = True, **kwargs: Any) -> dict:
        from mmdet.structures import DetDataSample
        boxes = self.boxes_for(image)
        sample = DetDataSample()
        sample.pred_instances = InstanceData(
            bboxes=torch.from_numpy(boxes[:, :4]), scores=torch.from_numpy(boxes[:, 4]),
            labels=torch.zeros(len(boxes), dtype=torch.long))
        return {'predictions': [sample]}


def list_images(path: str) -> List[str]:
    """An image file, or the images of a folder (sorted). Raises FileNotFoundError naming ``path``."""
    if osp.isfile(path):
        return [path]
    if osp.isdir(path):
        images = sorted(osp.join(path, n) for n in os.listdir(path) if n.lower().endswith(IMAGE_SUFFIXES))
        if not images:
            raise FileNotFoundError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in folder {path}')
        return images
    raise FileNotFoundError(f'input {path} is neither an image file nor a folder')


def run_inference(config: str, checkpoint: Optional[str], inputs: str, out_dir: str, *,
                  boxes: Optional[Dict[str, Sequence[Sequence[float]]]] = None, device: str = 'cpu',
                  kpt_thr: float = 0.3, draw_heatmap: bool = False) -> Iterator[dict]:
    """Run ``MMPoseInferencer`` on an image or a folder, saving drawings and JSON predictions under ``out_dir``.

    Args:
        config: a pose_plugins (or mmpose) top-down config file.
        checkpoint: weights to load (None keeps the config's init, e.g. for a smoke test).
        inputs: an image file or a folder of images.
        out_dir: gets ``visualizations/`` and ``predictions/``; must not already hold results of the same names.
        boxes: image path or basename -> person boxes (x1, y1, x2, y2[, score]); None: the whole image. An image
            with an empty list gets no people (and a warning), not mmpose's whole-image fallback; boxes of the
            wrong shape, non-finite or with x2 <= x1, and an image without an entry raise before any work.

    Yields:
        dict: per image, mmpose's result dict with ``predictions`` (list of instances with ``keypoints`` (K, 2),
        ``keypoint_scores`` (K,), ``bbox``).
    """
    from mmpose.apis import MMPoseInferencer
    images = list_images(inputs)
    detector = None if boxes is None else GivenBoxesDetector(boxes)
    for image in images:  # fail before any work: an image with no entry in ``boxes``, or unreadable
        if detector is not None:
            detector.boxes_for(image)
        problem = image_file_problem(image)
        if problem is not None:
            raise ValueError(f'input image {image}: {problem}')
    for sub in ('visualizations', 'predictions'):
        taken = [n for n in images if osp.exists(osp.join(out_dir, sub, osp.basename(n)))
                 or osp.exists(osp.join(out_dir, sub, osp.splitext(osp.basename(n))[0] + '.json'))]
        if taken:
            raise FileExistsError(f'{osp.join(out_dir, sub)} already holds results for {taken[0]}; '
                                  'choose another output folder')
    inferencer = MMPoseInferencer(pose2d=config, pose2d_weights=checkpoint, device=device, det_model='whole_image')
    if detector is not None:
        inferencer.inferencer.detector = detector
        inferencer.inferencer.det_cat_ids = (0, )
    for image in images:
        if detector is not None and len(detector.boxes_for(image)) == 0:
            # mmpose would fall back to a whole-image box; an empty list of given boxes means "nobody here"
            print_log(f'{image}: no person boxes given, so no people predicted', logger='current',
                      level=logging.WARNING)
            os.makedirs(osp.join(out_dir, 'predictions'), exist_ok=True)
            with open(osp.join(out_dir, 'predictions', osp.splitext(osp.basename(image))[0] + '.json'), 'x') as f:
                f.write('[]')
            yield {'predictions': [[]], 'visualization': []}
            continue
        yield from inferencer([image], out_dir=out_dir, kpt_thr=kpt_thr, draw_heatmap=draw_heatmap,
                              bbox_thr=-1.0, nms_thr=1.0)
