"""The ``video`` section of ``tools/benchmark.py``: frames per second end to end (decode, boxes, pose, tracks, drawn
video and JSON written) on one synthetic clip, for our loop with pose-carried boxes, our loop with boxes every
frame, mmpose's ``MMPoseInferencer`` on the same video and boxes, and the ONNX runtime.

Every side gets the clip's boxes from its detections file (so the detector costs nothing here; the carried-box rows
say how many frames needed it) and draws and writes its outputs to a new file per run.
"""
import argparse
import itertools
import os.path as osp
from typing import Any, Dict, List

import numpy as np
import torch
from mmengine.structures import InstanceData

from pose_plugins.apis import CONFIGS_DIR
from pose_plugins.deploy import export_onnx
from pose_plugins.synthetic import SyntheticClipConfig, make_synthetic_clip
from pose_plugins.video_inference import TopDownEstimator
from pose_plugins_runtime import PoseSession
from pose_plugins_runtime.video.boxes import DetectionsFile
from pose_plugins_runtime.video.loop import run_video
from pose_plugins_runtime.video.sources import Frame, open_source
from pose_plugins_runtime.video.tracker import PoseTracker

__all__ = ['bench_video']

VIDEO_CONFIG = osp.join(CONFIGS_DIR, 'demo', 'hrnet_tiny_synthetic.py')


class _FrameBoxes:
    """A detector stand-in for ``MMPoseInferencer``: the detections file's boxes of the n-th frame it is called
    on (the inferencer reads a video's frames in order)."""

    def __init__(self, detections: DetectionsFile, image: np.ndarray) -> None:
        self.detections, self.image, self.calls = detections, image, 0

    def __call__(self, image: Any, return_datasamples: bool = True, **kwargs: Any) -> dict:
        from mmdet.structures import DetDataSample
        boxes = self.detections(Frame(self.calls, 0.0, self.image, ''))
        self.calls += 1
        sample = DetDataSample()
        sample.pred_instances = InstanceData(bboxes=torch.from_numpy(boxes[:, :4]),
                                             scores=torch.from_numpy(boxes[:, 4]),
                                             labels=torch.zeros(len(boxes), dtype=torch.long))
        return {'predictions': [sample]}


def bench_video(args: argparse.Namespace, time_pair: Any, row: Any) -> List[dict]:
    """Rows of frames/s: ours with boxes carried from the poses (detector every ``args.redetect_every`` frames),
    ours with boxes every frame, and the ONNX runtime, each against ``MMPoseInferencer``. ``time_pair`` and ``row``
    are the benchmark's timing and row functions; ``args.video_checkpoint`` the README demo's weights (None: random
    initialisation, whose poses carry no boxes)."""
    from mmpose.apis import MMPoseInferencer
    tmp = args.tmp_dir
    clip_cfg = SyntheticClipConfig(num_frames=args.video_frames)
    clip = make_synthetic_clip(osp.join(tmp, 'video_benchmark.mp4'), cfg=clip_cfg, seed=args.video_seed)
    detections = DetectionsFile(clip['detections'])
    num_frames = args.video_frames
    estimator = TopDownEstimator.from_config(VIDEO_CONFIG, args.video_checkpoint)
    onnx_file = osp.join(tmp, 'video_benchmark.onnx')
    export_onnx(estimator.model, onnx_file, flip_test=bool(estimator.model.test_cfg.get('flip_test', False)),
                with_boxes=True)
    session = PoseSession(onnx_file)
    runs = itertools.count()
    detector_calls: Dict[str, int] = {}

    def ours(name: str, model: Any, redetect_every: int):
        def run() -> None:
            n = next(runs)
            summary = run_video(open_source(clip['video']), model, detector=detections, tracker=PoseTracker(),
                                redetect_every=redetect_every, video_out=osp.join(tmp, f'{name}_{n}.mp4'),
                                json_out=osp.join(tmp, f'{name}_{n}.jsonl'), progress=False)
            detector_calls[name] = summary.detector_calls
        return run

    with torch.no_grad():
        inferencer = MMPoseInferencer(pose2d=VIDEO_CONFIG, pose2d_weights=args.video_checkpoint, device='cpu',
                                      det_model='whole_image', show_progress=False)
    inferencer.inferencer.det_cat_ids = (0, )
    blank = np.zeros((1, 1, 3), np.uint8)

    def theirs() -> None:
        n = next(runs)
        inferencer.inferencer.detector = _FrameBoxes(detections, blank)
        for _ in inferencer(clip['video'], vis_out_dir=osp.join(tmp, f'mmpose_{n}'),
                            pred_out_dir=osp.join(tmp, f'mmpose_{n}'), bbox_thr=-1.0, nms_thr=1.0):
            pass

    fns = dict(carried=ours('carried', estimator, args.redetect_every), every=ours('every', estimator, 1),
               onnx=ours('onnx', session, args.redetect_every), mmpose=theirs)
    times = time_pair(fns, repeats=args.model_repeats, min_time=0.0)
    weights = 'README demo weights' if args.video_checkpoint else 'random weights'
    what = f'{num_frames}-frame {clip_cfg.image_size[0]}x{clip_cfg.image_size[1]} synthetic clip, HRNet demo 128x96, {weights}'
    rows = []
    for name, label in (('carried', f'ours, pose-carried boxes (detector on {{calls}} of {num_frames} frames)'),
                        ('every', 'ours, boxes every frame'),
                        ('onnx', f'ONNX runtime, pose-carried boxes (detector on {{calls}} of {num_frames} frames)')):
        rows.append(row('video', f'{label.format(calls=detector_calls.get(name))}, {what}', 'frames / s',
                        float(num_frames), dict(ours=times[name], mmpose=times['mmpose']), rate=True))
    return rows
