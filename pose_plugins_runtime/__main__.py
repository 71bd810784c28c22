"""``python -m pose_plugins_runtime MODEL.onnx INPUT [options]``: an exported model on an image, a video, a camera
or a folder of frames, with numpy, OpenCV and onnxruntime only.

One image: person boxes as ``--boxes '[[x1, y1, x2, y2]]'`` (default: the whole image); one line printed per person;
``--out`` the drawing, ``--json`` the predictions. A video file, a camera index (``0``) or a folder with
``--sequence``: boxes per frame from ``--det-file`` (JSON lines ``{"frame": i, "boxes": [...]}``; default: the whole
frame), tracked identities, ``--smooth`` One-Euro smoothing, ``--redetect-every N`` pose-carried boxes; ``--out`` the
drawn video, ``--json`` one JSON line per frame. Outputs are never overwritten; Ctrl-C stops and keeps them.
"""
import argparse
import json
import os.path as osp
import sys

import cv2
import numpy as np

from .drawing import draw_poses
from .pose_session import PoseSession
from .video.boxes import DetectionsFile, WholeImage
from .video.loop import run_video
from .video.options import add_video_options
from .video.smoothing import TrackSmoother
from .video.sources import is_video_input, open_source
from .video.tracker import PoseTracker


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m pose_plugins_runtime', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model')
    parser.add_argument('input', help='an image, a video file, a camera index, or a folder with --sequence')
    parser.add_argument('--boxes', help="one image: JSON list of person boxes, e.g. '[[10, 20, 110, 220]]'")
    parser.add_argument('--out', help='the drawing, or the drawn video (.mp4/.avi); refused if it exists')
    parser.add_argument('--json', help='the predictions (JSON; JSON lines for a video); refused if it exists')
    parser.add_argument('--kpt-thr', type=float, default=0.3)
    add_video_options(parser.add_argument_group('video'))
    return parser


def _video(parser: argparse.ArgumentParser, args: argparse.Namespace, session: PoseSession) -> int:
    if args.boxes is not None:
        parser.error('--boxes is for one image; a video takes --det-file')
    try:
        detector = DetectionsFile(args.det_file) if args.det_file else WholeImage()
        source = open_source(args.input)
        tracker = None if args.no_track else PoseTracker()
        smoother = TrackSmoother(min_cutoff=args.min_cutoff, beta=args.beta) if args.smooth else None
    except (OSError, ValueError) as err:
        parser.error(str(err))
    try:
        summary = run_video(source, session, detector=detector, tracker=tracker, smoother=smoother,
                            redetect_every=args.redetect_every, video_out=args.out, json_out=args.json,
                            progress=not args.no_progress, kpt_thr=args.kpt_thr, max_frames=args.max_frames)
    except ValueError as err:  # the loop's options, checked before any frame is read or output written
        parser.error(str(err))
    print(summary.report())
    return summary.exit_status


def main() -> int:
    parser = _parser()
    args = parser.parse_args()
    for path in (args.out, args.json):
        if path is not None and osp.exists(path):
            parser.error(f'{path} exists; choose another file')
    video = is_video_input(args.input) or args.sequence
    if not video:
        image = cv2.imread(args.input, cv2.IMREAD_COLOR)
        if image is None:
            parser.error(f'cannot read image {args.input}')
    if args.model and not osp.isfile(args.model):
        parser.error(f'model {args.model} does not exist')
    session = PoseSession(args.model)
    if video:
        return _video(parser, args, session)
    try:
        boxes = None if args.boxes is None else json.loads(args.boxes)
    except json.JSONDecodeError as err:
        parser.error(f'--boxes is not JSON ({err}): expected e.g. \'[[x1, y1, x2, y2]]\'')
    keypoints, scores = session(image, boxes)
    for person, person_scores in enumerate(scores):
        print(f'person {person}: mean keypoint score {float(np.mean(person_scores)):.3f}')
    if args.out:
        if not cv2.imwrite(args.out, draw_poses(image, keypoints, scores, session.skeleton_links,
                                                kpt_thr=args.kpt_thr)):
            parser.error(f'cannot write {args.out}')
    if args.json:
        with open(args.json, 'x') as f:
            json.dump([dict(keypoints=k.tolist(), keypoint_scores=s.tolist()) for k, s in zip(keypoints, scores)], f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
