"""One inference path for top-down 2D, 3D and mesh models: an image or a folder, given person boxes or the whole image.

What is drawn and written follows what the model predicts (:func:`output_kind`); ``VIS`` is ``vis_out_dir``, by
default ``out_dir/visualizations``:

- keypoints (2D; 3D: image u, v and depth): mmpose's ``MMPoseInferencer`` draws the skeletons into ``VIS/NAME`` and
  writes its JSON to ``out_dir/predictions/STEM.json``. mmpose 1.3.2's ``Pose2DInferencer`` drops its ``bboxes``
  argument when no detector is set, so given boxes reach it through :class:`GivenBoxesDetector`;
- meshes: mmpose's ``inference_topdown``; the recovered meshes drawn over the image in one z-buffer, shaded, at 70 %
  opacity (``VIS/NAME``), the people as JSON (``VIS/STEM_predictions.json``) and, with ``obj_dir``, one ``.obj`` per
  person (``obj_dir/STEM_<person>.obj``: vertices in metres, the head's frame).

With neither ``out_dir`` nor ``vis_out_dir`` nothing is written and every kind runs through ``inference_topdown``.
"""
from __future__ import annotations

import copy
import json
import logging
import os
import os.path as osp
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.structures import InstanceData

from pose_plugins import compat
from pose_plugins.cli import load_config
from pose_plugins.datasets.image_file import image_file_problem
from pose_plugins.visualization.mesh_drawing import draw_recovered_meshes, write_obj
from pose_plugins_runtime.video.sources import folder_images

__all__ = ['GivenBoxesDetector', 'list_images', 'output_kind', 'run_inference']

#: image path (or basename) -> person boxes, each [x1, y1, x2, y2] or [x1, y1, x2, y2, score] in image pixels
Boxes = Dict[str, Sequence[Sequence[float]]]


class GivenBoxesDetector:
    """A detector stand-in that returns fixed person boxes per image.

    Args:
        boxes (dict): image path (or basename) -> boxes, each ``[x1, y1, x2, y2]`` or ``[x1, y1, x2, y2, score]``
            in image pixels. Shape per image: (M, 4) or (M, 5).

    Raises:
        ValueError: ``boxes`` is not a mapping, or an image's boxes are not finite (M, 4) / (M, 5) numbers with
            x2 > x1 and y2 > y1.
    """

    def __init__(self, boxes: Boxes) -> None:
        if not isinstance(boxes, dict):
            raise ValueError(f'boxes must map image path (or basename) -> list of [x1, y1, x2, y2(, score)], '
                             f'got a {type(boxes).__name__}')
        self._boxes: Dict[str, np.ndarray] = {}
        self._given: Dict[str, Sequence[Sequence[float]]] = {}
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
            self._given[key] = value

    def _key(self, image: Any) -> str:
        key = image if isinstance(image, str) else None
        for candidate in (key, osp.basename(key) if key else None):
            if candidate is not None and candidate in self._boxes:
                return candidate
        raise KeyError(f'no boxes given for image {image if key else "<array>"}; known: {sorted(self._boxes)[:5]}')

    def boxes_for(self, image: Any) -> np.ndarray:
        """(M, 5) float32 boxes with scores for an image path; raises KeyError naming the image when it has none."""
        return self._boxes[self._key(image)]

    def given_for(self, image: Any) -> List[List[float]]:
        """(M, 4) boxes ``x1, y1, x2, y2`` of an image path as the caller gave them (Python floats)."""
        return [[float(v) for v in box[:4]] for box in self._given[self._key(image)]]

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
        return folder_images(path)
    raise FileNotFoundError(f'input {path} is neither an image file nor a folder')


def output_kind(cfg: Config) -> str:
    """What a top-down config's model predicts: ``'mesh'`` (a ``MeshRegressionHead``: body meshes), ``'3d'``
    (keypoints with a depth: a head with ``depth_bins > 1``) or ``'2d'``."""
    head = cfg.model.get('head') or {}
    if str(head.get('type', '')).split('.')[-1] in ('MeshRegressionHead', 'SMPLRegressionHead'):
        return 'mesh'
    return '3d' if head.get('depth_bins', 1) > 1 else '2d'


def run_inference(config: Union[str, Config], checkpoint: Optional[str], inputs: str, out_dir: Optional[str], *,
                  boxes: Optional[Boxes] = None, device: str = 'cpu', kpt_thr: float = 0.3,
                  draw_heatmap: bool = False, vis_out_dir: Optional[str] = None,
                  obj_dir: Optional[str] = None) -> Iterator[dict]:
    """Run a top-down model on an image or a folder; drawings and JSON as the module docstring lists.

    Args:
        config: a pose_plugins (or mmpose) top-down config file, or a loaded config (not modified).
        checkpoint: weights to load (None keeps the config's init, e.g. for a smoke test).
        inputs: an image file or a folder of images.
        out_dir: gets ``visualizations/`` (unless ``vis_out_dir``) and, for keypoint models, ``predictions/``; None:
            no predictions folder.
        boxes: image path or basename -> person boxes (x1, y1, x2, y2[, score]); None: the whole image. An image
            with an empty list gets no people (and, for keypoint models, a warning), not mmpose's whole-image
            fallback.
        device: torch device of the model.
        kpt_thr, draw_heatmap: keypoint models' drawing: keypoints scoring above ``kpt_thr``, and the heatmaps.
        vis_out_dir: where drawings (and mesh models' JSON) go instead of ``out_dir/visualizations``.
        obj_dir: mesh models: gets ``STEM_<person>.obj`` per person.

    Yields:
        dict: per image, ``image`` (its path), ``kind`` (:func:`output_kind`) and ``people``: with a keypoint
        drawing mmpose's instances (``keypoints`` (K, D) in pixels (D = 2, or 3 with depth in mm), ``keypoint_scores``
        (K,), ``bbox``, ``bbox_score``); otherwise per person ``bbox`` (x1, y1, x2, y2) and ``keypoints`` (K, D)
        rounded to 0.01, and for meshes ``body_pose`` (J * 3,) axis-angle, ``body_shape`` (S,), ``camera`` (3,).

    Raises:
        FileNotFoundError: ``inputs`` or ``config`` does not exist, or a folder holds no images.
        KeyError: ``boxes`` has no entry for an image.
        ValueError: malformed ``boxes``, or an unreadable image.
        FileExistsError: the output folders already hold results for an image (nothing is overwritten).
        All of these before any model is built.
    """
    images = list_images(inputs)
    detector = None if boxes is None else GivenBoxesDetector(boxes)
    for image in images:  # fail before any work: an image with no entry in ``boxes``, or unreadable
        if detector is not None:
            detector.boxes_for(image)
        problem = image_file_problem(image)
        if problem is not None:
            raise ValueError(f'input image {image}: {problem}')
    cfg = copy.deepcopy(config) if isinstance(config, Config) else load_config(config)
    kind = output_kind(cfg)
    vis_dir = vis_out_dir if vis_out_dir is not None else (osp.join(out_dir, 'visualizations') if out_dir else None)
    pred_dir = osp.join(out_dir, 'predictions') if out_dir and kind != 'mesh' else None
    _refuse_taken_outputs(images, kind, vis_dir, pred_dir)
    if kind != 'mesh' and (vis_dir is not None or pred_dir is not None):
        yield from _infer_keypoints(config if isinstance(config, str) else cfg, checkpoint, images, detector, kind,
                                    vis_dir, pred_dir, device=device, kpt_thr=kpt_thr, draw_heatmap=draw_heatmap)
    else:
        yield from _infer_top_down(cfg, checkpoint, images, detector, kind, vis_dir, obj_dir, device=device)


def _refuse_taken_outputs(images: List[str], kind: str, vis_dir: Optional[str], pred_dir: Optional[str]) -> None:
    """Raise FileExistsError naming the folder when an output of an image is already there."""
    for folder in (vis_dir, pred_dir):
        if folder is None:
            continue
        suffix = '_predictions.json' if kind == 'mesh' else '.json'
        taken = [n for n in images if osp.exists(osp.join(folder, osp.basename(n)))
                 or osp.exists(osp.join(folder, osp.splitext(osp.basename(n))[0] + suffix))]
        if taken:
            raise FileExistsError(f'{folder} already holds results for {taken[0]}; choose another output folder')


def _infer_keypoints(config: Union[str, Config], checkpoint: Optional[str], images: List[str],
                     detector: Optional[GivenBoxesDetector], kind: str, vis_dir: Optional[str],
                     pred_dir: Optional[str], *, device: str, kpt_thr: float, draw_heatmap: bool) -> Iterator[dict]:
    """Keypoint models through ``MMPoseInferencer``: skeletons drawn into ``vis_dir``, its JSON into ``pred_dir``."""
    from mmpose.apis import MMPoseInferencer
    with compat.quiet_known_messages():  # mmengine's note that mmpose has no "function" registry
        inferencer = MMPoseInferencer(pose2d=config, pose2d_weights=checkpoint, device=device,
                                      det_model='whole_image')
    if detector is not None:
        inferencer.inferencer.detector = detector
        inferencer.inferencer.det_cat_ids = (0, )
    folders = {k: v for k, v in (('vis_out_dir', vis_dir), ('pred_out_dir', pred_dir)) if v is not None}
    for image in images:
        if detector is not None and len(detector.boxes_for(image)) == 0:
            # mmpose would fall back to a whole-image box; an empty list of given boxes means "nobody here"
            print_log(f'{image}: no person boxes given, so no people predicted', logger='current',
                      level=logging.WARNING)
            if pred_dir is not None:
                os.makedirs(pred_dir, exist_ok=True)
                with open(osp.join(pred_dir, osp.splitext(osp.basename(image))[0] + '.json'), 'x') as f:
                    f.write('[]')
            yield dict(image=image, kind=kind, people=[])
            continue
        for result in inferencer([image], kpt_thr=kpt_thr, draw_heatmap=draw_heatmap, bbox_thr=-1.0, nms_thr=1.0,
                                 **folders):
            yield dict(image=image, kind=kind, people=result['predictions'][0])


def _infer_top_down(cfg: Config, checkpoint: Optional[str], images: List[str],
                    detector: Optional[GivenBoxesDetector], kind: str, vis_dir: Optional[str],
                    obj_dir: Optional[str], *, device: str) -> Iterator[dict]:
    """Any model through ``inference_topdown``, one batch of boxes per image; meshes drawn into ``vis_dir``."""
    from mmpose.apis import inference_topdown, init_model
    model = init_model(cfg, checkpoint, device=device)
    for image in images:
        if detector is None:
            height, width = cv2.imread(image).shape[:2]
            boxes = [[0.0, 0.0, float(width), float(height)]]
        else:
            boxes = detector.given_for(image)
        samples = inference_topdown(model, image, bboxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                                    bbox_format='xyxy') if boxes else []
        people = []
        for box, sample in zip(boxes, samples):
            pred = sample.pred_instances
            person = dict(bbox=box, keypoints=np.round(pred.keypoints[0], 2).tolist())
            if kind == 'mesh':
                person.update(body_pose=np.round(pred.body_pose[0], 5).tolist(),
                              body_shape=np.round(pred.body_shape[0], 5).tolist(),
                              camera=np.round(pred.camera[0], 5).tolist())
            people.append(person)
        if kind == 'mesh' and vis_dir is not None:
            _draw_meshes(model.head, image, samples, people, vis_dir)
        if kind == 'mesh' and obj_dir is not None:
            os.makedirs(obj_dir, exist_ok=True)
            stem = osp.splitext(osp.basename(image))[0]
            for index, sample in enumerate(samples):
                write_obj(osp.join(obj_dir, f'{stem}_{index}.obj'), sample.pred_instances.vertices[0],
                          model.head.body_model.faces)
        yield dict(image=image, kind=kind, people=people)


def _draw_meshes(head: Any, image_path: str, samples: Sequence[Any], people: List[Dict[str, Any]],
                 vis_dir: str) -> None:
    """The recovered meshes over the image (``vis_dir/NAME``) and the people (``vis_dir/STEM_predictions.json``).

    One z-buffer for all people (:func:`~pose_plugins.visualization.draw_recovered_meshes`)."""
    metas = [sample.metainfo for sample in samples]
    input_size = metas[0]['input_size'] if metas else (1, 1)  # no people: nothing is projected
    drawing = draw_recovered_meshes(
        cv2.imread(image_path), [s.pred_instances.vertices[0] for s in samples],
        [s.pred_instances.camera_translation[0] for s in samples], [m['input_center'] for m in metas],
        [m['input_scale'] for m in metas], faces=head.body_model.faces, focal_length=head.focal_length,
        input_size=input_size)
    os.makedirs(vis_dir, exist_ok=True)
    name = osp.basename(image_path)
    if not cv2.imwrite(_new_path(osp.join(vis_dir, name)), drawing):
        raise OSError(f'could not write {osp.join(vis_dir, name)}')
    with open(_new_path(osp.join(vis_dir, osp.splitext(name)[0] + '_predictions.json')), 'x') as f:
        json.dump(dict(image=image_path, people=people), f)


def _new_path(path: str) -> str:
    """``path``, which must not exist yet (results are never overwritten)."""
    if osp.exists(path):
        raise FileExistsError(f'{path} exists; choose another output folder')
    return path
