"""The ``video`` section of ``tools/benchmark.py``: frames per second end to end (decode, boxes, pose, tracks, drawn
video and JSON written) on one synthetic clip, for our loop with pose-carried boxes, our loop with boxes every
frame and the ONNX runtime, each against mmpose's ``MMPoseInferencer`` on the same video and boxes.

Two box sources, the same for every side: the clip's detections file (boxes cost nothing), and a detector that
runs an mmdet model's forward on the frame (RTMDet-tiny from mmdet's configs, random weights: a trained one costs
the same) and returns the clip's boxes, so that every side poses the same people while paying for detection on
each frame it asks for boxes.
"""
import argparse
import itertools
import os.path as osp
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.structures import InstanceData

from pose_plugins.apis import CONFIGS_DIR
from pose_plugins.deploy import export_onnx
from pose_plugins.synthetic import SyntheticClipConfig, make_synthetic_clip
from pose_plugins.video_inference import MMDetDetector, TopDownEstimator
from pose_plugins_runtime import PoseSession
from pose_plugins_runtime.video.boxes import DetectionsFile
from pose_plugins_runtime.video.loop import run_video
from pose_plugins_runtime.video.sources import Frame, open_source
from pose_plugins_runtime.video.tracker import PoseTracker

__all__ = ['bench_video', 'detector_config']

VIDEO_CONFIG = osp.join(CONFIGS_DIR, 'demo', 'hrnet_tiny_synthetic.py')
DETECTOR = 'rtmdet/rtmdet_tiny_8xb32-300e_coco.py'


def detector_config(folder: str) -> str:
    """A config file in ``folder`` of mmdet's RTMDet-tiny without its pretrained backbone (nothing to download)."""
    import mmdet
    path = osp.join(folder, 'rtmdet_tiny_random.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = ['{osp.join(mmdet.__path__[0], '.mim', 'configs', DETECTOR)}']\n"
                "model = dict(backbone=dict(init_cfg=None))\n")
    return path


class _CostlyBoxes:
    """Box source of one run: the detections file's boxes of the n-th frame asked for, after ``detect`` (a
    detector's forward, or nothing) on that frame's image."""

    def __init__(self, detections: DetectionsFile, detect: Optional[Callable[[np.ndarray], Any]]) -> None:
        self.detections, self.detect, self.calls = detections, detect, 0

    def __call__(self, frame: Frame) -> np.ndarray:
        if self.detect is not None:
            self.detect(frame.image)
        self.calls += 1
        return self.detections(frame)

    def as_mmpose_detector(self) -> Callable[..., dict]:
        """The same, called as ``MMPoseInferencer``'s detector (it reads a video's frames in order)."""
        def detector(image: Any, return_datasamples: bool = True, **kwargs: Any) -> dict:
            from mmdet.structures import DetDataSample
            boxes = self(Frame(self.calls, 0.0, image, ''))
            sample = DetDataSample()
            sample.pred_instances = InstanceData(bboxes=torch.from_numpy(boxes[:, :4]),
                                                 scores=torch.from_numpy(boxes[:, 4]),
                                                 labels=torch.zeros(len(boxes), dtype=torch.long))
            return {'predictions': [sample]}
        return detector


def bench_video(args: argparse.Namespace, time_pair: Any, row: Any) -> List[dict]:
    """Rows of frames/s (module docstring) on a clip of ``args.video_frames`` frames (seed ``args.video_seed``);
    pose-carried boxes re-detect every ``args.redetect_every`` frames. ``time_pair`` and ``row`` are the
    benchmark's timing and row functions; ``args.video_checkpoint`` the README demo's weights (None: random
    initialisation, whose poses carry no boxes)."""
    from mmpose.apis import MMPoseInferencer
    tmp = args.tmp_dir
    clip_cfg = SyntheticClipConfig(num_frames=args.video_frames)
    clip = make_synthetic_clip(osp.join(tmp, 'video_benchmark.mp4'), cfg=clip_cfg, seed=args.video_seed)
    detections = DetectionsFile(clip['detections'])
    estimator = TopDownEstimator.from_config(VIDEO_CONFIG, args.video_checkpoint)
    onnx_file = osp.join(tmp, 'video_benchmark.onnx')
    export_onnx(estimator.model, onnx_file, flip_test=bool(estimator.model.test_cfg.get('flip_test', False)),
                with_boxes=True)
    session = PoseSession(onnx_file)
    detector = MMDetDetector(detector_config(tmp), None)
    with torch.no_grad():
        inferencer = MMPoseInferencer(pose2d=VIDEO_CONFIG, pose2d_weights=args.video_checkpoint, device='cpu',
                                      det_model='whole_image', show_progress=False)
    inferencer.inferencer.det_cat_ids = (0, )
    runs = itertools.count()
    calls: Dict[str, int] = {}

    def ours(name: str, model: Any, redetect_every: int, detect: Optional[Callable]) -> Callable[[], None]:
        def run() -> None:
            n, boxes = next(runs), _CostlyBoxes(detections, detect)
            run_video(open_source(clip['video']), model, detector=boxes, tracker=PoseTracker(),
                      redetect_every=redetect_every, video_out=osp.join(tmp, f'{name}_{n}.mp4'),
                      json_out=osp.join(tmp, f'{name}_{n}.jsonl'), progress=False)
            calls[name] = boxes.calls
        return run

    def theirs(detect: Optional[Callable]) -> Callable[[], None]:
        def run() -> None:
            n = next(runs)
            inferencer.inferencer.detector = _CostlyBoxes(detections, detect).as_mmpose_detector()
            for _ in inferencer(clip['video'], vis_out_dir=osp.join(tmp, f'mmpose_{n}'),
                                pred_out_dir=osp.join(tmp, f'mmpose_{n}'), bbox_thr=-1.0, nms_thr=1.0):
                pass
        return run

    num_frames, every = args.video_frames, args.redetect_every
    weights = 'README demo weights' if args.video_checkpoint else 'random weights'
    what = f'{num_frames}-frame {clip_cfg.image_size[0]}x{clip_cfg.image_size[1]} clip, HRNet demo, {weights}'
    rows = []
    for source, detect in (('boxes from a file', None),
                           ('RTMDet-tiny forward per detection', lambda image: detector(Frame(0, 0.0, image, '')))):
        fns = dict(carried=ours('carried', estimator, every, detect), every=ours('every', estimator, 1, detect),
                   onnx=ours('onnx', session, every, detect), mmpose=theirs(detect))
        with torch.no_grad():
            times = time_pair(fns, repeats=args.model_repeats, min_time=0.0)
        for name, label in (('carried', 'ours, pose-carried boxes'), ('every', 'ours, boxes every frame'),
                            ('onnx', 'ONNX runtime, pose-carried boxes')):
            rows.append(row('video', f'{label} (detector on {calls[name]} of {num_frames} frames), {source}, {what}',
                            'frames / s', float(num_frames), dict(ours=times[name], mmpose=times['mmpose']),
                            rate=True))
    return rows
