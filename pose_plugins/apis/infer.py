"""``tools/infer.py``: its flags, the person boxes they give, and :func:`pose_plugins.inference.run_inference` for
images, or :func:`pose_plugins.video_inference.run_video_inference` for a video, a camera or ``--sequence``."""
import argparse
import json
import os.path as osp
from typing import Optional, Sequence

from pose_plugins.cli import ToolArgumentParser
from pose_plugins.inference import Boxes, list_images, run_inference
from pose_plugins.video_inference import run_video_inference
from pose_plugins_runtime.video.options import add_video_options
from pose_plugins_runtime.video.sources import is_video_input

__all__ = ['main', 'parse_args']


def parse_args(argv: Optional[Sequence[str]] = None, *,
               description: Optional[str] = None) -> tuple[argparse.Namespace, Optional[Boxes]]:
    """``tools/infer.py``'s flags (``argv`` None: ``sys.argv[1:]``) and the boxes of ``--bboxes`` / ``--bbox-file``
    (image -> list of boxes; None: the whole image). ``description`` heads ``--help``. A bad flag exits with status 2
    and a message naming it."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', help='an image, a folder of images, a video file or a camera index (0, 1, ...)')
    parser.add_argument('--out-dir', default='outputs/infer')
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument('--bboxes', help='JSON list of [x1, y1, x2, y2] person boxes, for a single image')
    boxes.add_argument('--bbox-file', help='JSON file: image name -> list of [x1, y1, x2, y2(, score)]')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--kpt-thr', type=float, default=0.3, help='draw keypoints scoring above this')
    parser.add_argument('--draw-heatmap', action='store_true')
    parser.add_argument('--mesh-obj', default=None, metavar='DIR', help='mesh configs: write each mesh as .obj')
    add_video_arguments(parser)
    args = parser.parse_args(argv)
    args.video = is_video_input(args.inputs) or args.sequence
    if args.video:
        if args.bboxes is not None or args.bbox_file is not None:
            parser.error('--bboxes / --bbox-file are for images; a video takes --det-file or --det-config')
        return args, None

    given = None
    if args.bboxes is not None:
        images = list_images(args.inputs)
        if len(images) != 1:
            parser.error(f'--bboxes is for one image; {args.inputs} has {len(images)}: use --bbox-file')
        try:
            given = {images[0]: json.loads(args.bboxes)}
        except json.JSONDecodeError as err:
            parser.error(f'--bboxes is not JSON ({err}): expected e.g. \'[[x1, y1, x2, y2]]\'')
    elif args.bbox_file is not None:
        if not osp.isfile(args.bbox_file):
            parser.error(f'--bbox-file {args.bbox_file} does not exist')
        try:
            with open(args.bbox_file) as f:
                given = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            parser.error(f'--bbox-file {args.bbox_file} is not JSON ({err})')
        if not isinstance(given, dict):
            parser.error(f'--bbox-file {args.bbox_file} must hold a JSON object: image name -> list of boxes, '
                         f'got a {type(given).__name__}')
    return args, given


def add_video_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of pose on video: outputs, where boxes come from, tracking and smoothing."""
    video = parser.add_argument_group('video, camera or --sequence input')
    add_video_options(video)
    video.add_argument('--video-out', help='drawn video (.mp4 or .avi; default OUT_DIR/STEM.mp4)')
    video.add_argument('--json-out', help='predictions, one JSON line per frame (default OUT_DIR/STEM.jsonl)')
    video.add_argument('--no-video-out', action='store_true', help='write no drawn video')
    video.add_argument('--det-config', help='an mmdet detector config (with --det-checkpoint), instead of --det-file')
    video.add_argument('--det-checkpoint', help='the detector\'s weights')
    video.add_argument('--det-score-thr', type=float, default=0.3)


def _stem(inputs: str) -> str:
    return f'camera{inputs}' if inputs.isdigit() else osp.splitext(osp.basename(osp.normpath(inputs)))[0]


def run_video(args: argparse.Namespace) -> int:
    """Pose on the video of ``args`` (:func:`add_video_arguments`' flags); prints a summary, returns the exit code
    (``pose_plugins_runtime.video.loop.INTERRUPTED`` after Ctrl-C, the outputs kept)."""
    stem = _stem(args.inputs)
    video_out = None if args.no_video_out else (args.video_out or osp.join(args.out_dir, stem + '.mp4'))
    json_out = args.json_out or osp.join(args.out_dir, stem + '.jsonl')
    summary = run_video_inference(
        args.config, args.checkpoint, args.inputs, video_out=video_out, json_out=json_out, det_file=args.det_file,
        det_config=args.det_config, det_checkpoint=args.det_checkpoint, det_score_thr=args.det_score_thr,
        redetect_every=args.redetect_every, track=not args.no_track, smooth=args.smooth,
        min_cutoff=args.min_cutoff, beta=args.beta, device=args.device, kpt_thr=args.kpt_thr,
        max_frames=args.max_frames, progress=not args.no_progress)
    print(summary.report())
    return summary.exit_status


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> int:
    """``tools/infer.py``: inference on every image, one line printed per image and where the results went; or
    pose on a video (:func:`run_video`)."""
    args, given = parse_args(argv, description=description)
    if args.video:
        return run_video(args)
    kind = None
    for result in run_inference(args.config, args.checkpoint, args.inputs, args.out_dir, boxes=given,
                                device=args.device, kpt_thr=args.kpt_thr, draw_heatmap=args.draw_heatmap,
                                obj_dir=args.mesh_obj):
        kind, people = result['kind'], result['people']
        if kind == 'mesh':
            print(f'{result["image"]}: {len(people)} mesh(es)')
        else:
            print(f'{len(people)} person(s)' + (': ' if people else '') + ', '.join(
                f'mean keypoint score {sum(p["keypoint_scores"]) / len(p["keypoint_scores"]):.2f}' for p in people))
    if kind == 'mesh':
        print(f'drawings and predictions: {osp.join(args.out_dir, "visualizations")}'
              + (f'  meshes: {args.mesh_obj}' if args.mesh_obj else ''))
    else:
        print(f'drawings: {osp.join(args.out_dir, "visualizations")}  predictions: '
              f'{osp.join(args.out_dir, "predictions")}')
    return 0
