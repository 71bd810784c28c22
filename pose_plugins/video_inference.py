"""Pose on video with a config and checkpoint: the model as an estimator of
:mod:`pose_plugins_runtime.video.loop` (one batch of person crops per frame), an mmdet detector as a box provider,
and :func:`run_video_inference`, which ties a source, boxes, tracking and smoothing together.

The crops are made by ``pose_plugins_runtime``'s numpy preprocessing, bit-identical to mmpose's top-down test
pipeline (``GetBBoxCenterScale``, ``TopdownAffine`` without UDP, ``PoseDataPreprocessor``), and go through the
model's ``predict`` (flip test and decoding as in ``tools/test.py``), so keypoints equal mmpose's
``inference_topdown`` on the same boxes.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from pose_plugins import compat
from pose_plugins.cli import load_config
from pose_plugins.deploy.onnx_export import preprocessing_metadata
from pose_plugins.inference import output_kind
from pose_plugins.visualization.mesh_drawing import draw_recovered_meshes
from pose_plugins_runtime.preprocessing import crop_boxes
from pose_plugins_runtime.video.boxes import DetectionsFile, WholeImage
from pose_plugins_runtime.video.loop import VideoSummary, run_video
from pose_plugins_runtime.video.smoothing import TrackSmoother
from pose_plugins_runtime.video.sources import Frame, open_source
from pose_plugins_runtime.video.tracker import PoseTracker
from pose_plugins_runtime.video.writers import refuse_existing

__all__ = ['MMDetDetector', 'TopDownEstimator', 'run_video_inference']

#: Per-person fields a mesh model adds to the keypoints (see ``MeshRegressionHead.decode_outputs``).
_MESH_OUTPUTS = ('body_pose', 'body_shape', 'camera', 'vertices', 'camera_translation')


class TopDownEstimator:
    """A top-down model (2D, 3D or mesh) as a video estimator: ``estimator(image, boxes)`` runs every box of a
    frame in one batch (with the flip test, the crops and their mirror images together).

    Args:
        model: a model built by mmpose's ``init_model`` (``model.cfg`` is its config), in eval mode; not modified.
        fast: run a copy with each batch norm folded into its convolution, in channels-last memory layout. The copy
            is checked at construction against ``model`` on a random batch (head outputs within
            :data:`FAST_TOLERANCE` of their largest magnitude); where it differs more, ``model`` runs as it is.

    Raises:
        ValueError: the config's preprocessing is not the top-down one (e.g. ``TopdownAffine(use_udp=True)``).
    """

    def __init__(self, model: torch.nn.Module, *, fast: bool = True) -> None:
        self.model = model
        self.runner = _fast_copy(model) if fast else model
        self.meta = preprocessing_metadata(model)
        self.kind = output_kind(model.cfg)
        self.skeleton_links: List[Tuple[int, int]] = [tuple(link) for link in self.meta['skeleton_links']]
        self.keypoint_names: List[str] = self.meta['keypoint_names']
        dataset_meta = getattr(model, 'dataset_meta', None) or {}
        self._flip_indices = list(dataset_meta.get('flip_indices', range(len(self.keypoint_names))))
        self.smoothed_fields = ('keypoints', ) + (_MESH_OUTPUTS if self.kind == 'mesh' else ())

    @classmethod
    def from_config(cls, config: Union[str, Config], checkpoint: Optional[str], *, device: str = 'cpu',
                    fast: bool = True) -> 'TopDownEstimator':
        """Build the model of ``config`` (a file or a loaded config, not modified) with ``checkpoint``'s weights
        (None: the config's initialisation) on ``device``; ``fast`` as the class's."""
        from mmpose.apis import init_model
        cfg = copy.deepcopy(config) if isinstance(config, Config) else load_config(config)
        with compat.quiet_known_messages():
            model = init_model(cfg, checkpoint, device=device)
        return cls(model, fast=fast)

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> Dict[str, np.ndarray]:
        """Per box of ``boxes`` (M, 4) ``x1, y1, x2, y2`` in the BGR uint8 ``image`` (H, W, 3): ``keypoints``
        (M, K, D) image pixels (D = 3: root-relative depth in mm), ``keypoint_scores`` (M, K), ``input_center``
        and ``input_scale`` (M, 2) of the crops, and for mesh models ``body_pose`` (M, J * 3) axis-angle, ``body_shape``
        (M, S), ``camera`` (M, 3), ``vertices`` (M, V, 3) metres and ``camera_translation`` (M, 3)."""
        from mmpose.structures import PoseDataSample
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        meta = self.meta
        crops, center, scale = crop_boxes(image, boxes, input_size=tuple(meta['input_size']), mean=meta['mean'],
                                          std=meta['std'], bgr_to_rgb=meta['bgr_to_rgb'],
                                          padding=meta['bbox_padding'])
        samples = []
        for i in range(len(boxes)):
            sample = PoseDataSample(metainfo=dict(
                input_size=tuple(meta['input_size']), input_center=center[i].astype(np.float32),
                input_scale=scale[i].astype(np.float32), flip_indices=self._flip_indices,
                ori_shape=image.shape[:2], img_shape=image.shape[:2]))
            sample.gt_instances = InstanceData(bboxes=boxes[i:i + 1].astype(np.float32),
                                               bbox_scores=np.ones(1, np.float32))
            samples.append(sample)
        device = next(self.runner.parameters()).device
        with torch.no_grad():
            results = _predict(self.runner, torch.from_numpy(crops).to(device), samples)
        fields = ('keypoints', 'keypoint_scores') + (_MESH_OUTPUTS if self.kind == 'mesh' else ())
        out = {name: np.concatenate([np.asarray(r.pred_instances.get(name)) for r in results]) for name in fields}
        out.update(input_center=center, input_scale=scale)
        return out

    def draw(self, image: np.ndarray, people: Dict[str, np.ndarray],
             colours: Sequence[Tuple[int, int, int]]) -> np.ndarray:
        """Mesh models: the people's meshes over ``image`` in one z-buffer, shaded, at 70 % opacity, one BGR colour
        each (:func:`~pose_plugins.visualization.draw_recovered_meshes`)."""
        if self.kind != 'mesh':
            raise ValueError(f'draw is for mesh models; this model predicts {self.kind} keypoints')
        head = self.model.head
        return draw_recovered_meshes(image, people['vertices'], people['camera_translation'],
                                     people['input_center'], people['input_scale'], faces=head.body_model.faces,
                                     focal_length=head.focal_length, input_size=tuple(self.meta['input_size']),
                                     colours=[np.asarray(c, np.float64) for c in colours])


#: Largest difference allowed between the folded, channels-last copy's head outputs and the model's, relative to
#: their largest magnitude: float32 re-association of the folded scale and shift (~1e-7), with margin.
FAST_TOLERANCE = 1e-4


def _fast_copy(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` with batch norms folded and channels-last weights, if it computes the same head outputs on a
    random batch of two crops; else ``model``."""
    from mmcv.cnn import fuse_conv_bn
    fast = fuse_conv_bn(copy.deepcopy(model)).to(memory_format=torch.channels_last).eval()
    width, height = model.head.decoder.input_size if model.head.decoder is not None else model.head.input_size
    inputs = torch.randn(2, 3, height, width, generator=torch.Generator().manual_seed(0),
                         device=next(model.parameters()).device)
    with torch.no_grad():
        want = _flat(model.head(model.extract_feat(inputs)))
        got = _flat(fast.head(fast.extract_feat(inputs.contiguous(memory_format=torch.channels_last))))
    scale = max(float(w.abs().max()) for w in want) or 1.0
    same = len(want) == len(got) and all(
        w.shape == g.shape and float((w - g).abs().max()) <= FAST_TOLERANCE * scale for w, g in zip(want, got))
    return fast if same else model


def _flat(outputs: Any) -> List[torch.Tensor]:
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    values = outputs.values() if isinstance(outputs, dict) else outputs
    return [t for value in values for t in _flat(value)]


def _predict(model: torch.nn.Module, inputs: torch.Tensor, samples: List[Any]) -> List[Any]:
    """mmpose's ``TopdownPoseEstimator.predict`` with the flip test's crops and mirror images in one batch."""
    inputs = inputs.contiguous(memory_format=torch.channels_last)
    if not model.test_cfg.get('flip_test', False):
        feats = model.extract_feat(inputs)
    else:
        both = model.extract_feat(torch.cat([inputs, inputs.flip(-1)]))
        count = len(inputs)
        feats = [tuple(f[:count] for f in both), tuple(f[count:] for f in both)]
    preds = model.head.predict(feats, samples, test_cfg=model.test_cfg)
    instances, fields = preds if isinstance(preds, tuple) else (preds, None)
    return model.add_pred_to_datasample(instances, fields, samples)


class MMDetDetector:
    """Person boxes from an mmdet detector (the user's config and checkpoint): ``detector(frame) -> (M, 5)``
    ``x1, y1, x2, y2, score`` of the class ``category_id`` scoring above ``score_thr``."""

    def __init__(self, config: str, checkpoint: Optional[str], *, device: str = 'cpu', category_id: int = 0,
                 score_thr: float = 0.3) -> None:
        from mmdet.apis import init_detector
        if not 0.0 <= score_thr < 1.0:
            raise ValueError(f'score_thr must be in [0, 1), got {score_thr!r}')
        with compat.quiet_known_messages(), DefaultScope.overwrite_default_scope('mmdet'):
            self.model = init_detector(load_config(config), checkpoint, device=device)
        self.category_id, self.score_thr = category_id, score_thr

    def __call__(self, frame: Frame) -> np.ndarray:
        from mmdet.apis import inference_detector
        with DefaultScope.overwrite_default_scope('mmdet'):  # its test pipeline is mmdet's, whatever scope is current
            instances = inference_detector(self.model, frame.image).pred_instances.cpu().numpy()
        keep = (instances.labels == self.category_id) & (instances.scores > self.score_thr)
        return np.concatenate([instances.bboxes[keep], instances.scores[keep, None]], axis=1).astype(np.float32)


def run_video_inference(config: Union[str, Config], checkpoint: Optional[str], inputs: str, *,
                        video_out: Optional[str] = None, json_out: Optional[str] = None,
                        det_file: Optional[str] = None, det_config: Optional[str] = None,
                        det_checkpoint: Optional[str] = None, det_score_thr: float = 0.3,
                        redetect_every: int = 1, track: bool = True, smooth: bool = False,
                        min_cutoff: float = 1.0, beta: float = 0.1, device: str = 'cpu', kpt_thr: float = 0.3,
                        max_frames: Optional[int] = None, progress: bool = True,
                        tracker_options: Optional[Dict[str, Any]] = None) -> VideoSummary:
    """Pose on a video file, a camera (``'0'``), an image or a folder of images (frames in name order).

    Args:
        config, checkpoint: the pose model (checkpoint None: the config's initialisation).
        inputs: what :func:`pose_plugins_runtime.video.sources.open_source` opens.
        video_out, json_out: the drawn video (``.mp4``/``.avi``) and the JSON lines (one per frame); never
            overwritten.
        det_file: boxes per frame (JSON lines ``{"frame": i, "boxes": [...]}``); ``det_config`` (and
            ``det_checkpoint``): an mmdet detector instead; neither: the whole frame is one person.
        redetect_every: boxes from the detector every N frames and from the tracks' poses in between (needs
            ``track``).
        track, smooth: identities by pose and box matching; One-Euro smoothing per track (``min_cutoff`` Hz,
            ``beta`` per pixel/s, Casiez et al. 2012).
        tracker_options: keywords of :class:`~pose_plugins_runtime.video.tracker.PoseTracker`.

    Raises:
        ValueError: both ``det_file`` and ``det_config``; a source that does not open; bad options.
        FileNotFoundError: ``inputs``, ``config`` or ``det_file`` missing. FileExistsError: an output exists.
        All before the model is built.
    """
    if det_file is not None and det_config is not None:
        raise ValueError('give either det_file or det_config, not both')
    if smooth and not track:
        raise ValueError('smoothing works per track: it needs track=True')
    refuse_existing(video_out, json_out)
    detector = DetectionsFile(det_file) if det_file is not None else None
    source = open_source(inputs)
    try:
        tracker = PoseTracker(**(tracker_options or {})) if track else None
        smoother = TrackSmoother(min_cutoff=min_cutoff, beta=beta) if smooth else None
        estimator = TopDownEstimator.from_config(config, checkpoint, device=device)
        if det_config is not None:
            detector = MMDetDetector(det_config, det_checkpoint, device=device, score_thr=det_score_thr)
    except BaseException:
        source.close()
        raise
    return run_video(source, estimator, detector=detector or WholeImage(), tracker=tracker, smoother=smoother,
                     redetect_every=redetect_every, video_out=video_out, json_out=json_out, progress=progress,
                     kpt_thr=kpt_thr, max_frames=max_frames)
