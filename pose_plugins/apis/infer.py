"""``tools/infer.py``: its flags, the person boxes they give, and :func:`pose_plugins.inference.run_inference`."""
import argparse
import json
import os.path as osp
from typing import Optional, Sequence

from pose_plugins.cli import ToolArgumentParser
from pose_plugins.inference import Boxes, list_images, run_inference

__all__ = ['main', 'parse_args']


def parse_args(argv: Optional[Sequence[str]] = None, *,
               description: Optional[str] = None) -> tuple[argparse.Namespace, Optional[Boxes]]:
    """``tools/infer.py``'s flags (``argv`` None: ``sys.argv[1:]``) and the boxes of ``--bboxes`` / ``--bbox-file``
    (image -> list of boxes; None: the whole image). ``description`` heads ``--help``. A bad flag exits with status 2
    and a message naming it."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', help='an image or a folder of images')
    parser.add_argument('--out-dir', default='outputs/infer')
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument('--bboxes', help='JSON list of [x1, y1, x2, y2] person boxes, for a single image')
    boxes.add_argument('--bbox-file', help='JSON file: image name -> list of [x1, y1, x2, y2(, score)]')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--kpt-thr', type=float, default=0.3, help='draw keypoints scoring above this')
    parser.add_argument('--draw-heatmap', action='store_true')
    parser.add_argument('--mesh-obj', default=None, metavar='DIR', help='mesh configs: write each mesh as .obj')
    args = parser.parse_args(argv)

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


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> None:
    """``tools/infer.py``: inference on every image, one line printed per image and where the results went."""
    args, given = parse_args(argv, description=description)
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
