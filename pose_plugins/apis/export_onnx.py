"""``tools/export_onnx.py``: a trained top-down model exported by :func:`pose_plugins.deploy.export_onnx`."""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

from pose_plugins.cli import ToolArgumentParser, error_message
from pose_plugins.deploy import DEFAULT_OPSET, export_onnx

__all__ = ['main']


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> int:
    """``tools/export_onnx.py`` (``argv`` None: ``sys.argv[1:]``): returns the exit status, 1 when the model cannot be
    exported; bad flags, missing inputs and an existing output without ``--overwrite`` exit with 2."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="weights to export ('none' exports the config's initialisation)")
    parser.add_argument('--out', help='output .onnx file (default: next to the checkpoint, .onnx suffix)')
    parser.add_argument('--flip-test', action='store_true', help='average with the mirrored crops in the graph')
    parser.add_argument('--with-boxes', action='store_true',
                        help='inputs center and scale (B, 2); keypoints in image pixels')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--overwrite', action='store_true', help='replace an existing output file')
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config {args.config} does not exist')
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        parser.error(f'checkpoint {checkpoint} does not exist')
    out = args.out or osp.splitext(checkpoint or osp.basename(args.config))[0] + '.onnx'
    if osp.exists(out) and not args.overwrite:
        parser.error(f'{out} exists; choose another --out or pass --overwrite')
    from mmpose.apis import init_model
    model = init_model(args.config, checkpoint, device='cpu')
    try:
        export_onnx(model, out, flip_test=args.flip_test, with_boxes=args.with_boxes, opset=args.opset,
                    overwrite=args.overwrite)
    except (ValueError, NotImplementedError, TypeError, FileExistsError) as err:
        print(f'{parser.prog}: error: {error_message(err)}', file=sys.stderr)
        return 1
    print(f'wrote {out} (opset {args.opset}, flip test {"on" if args.flip_test else "off"}, '
          f'{"image" if args.with_boxes else "crop"} pixels)')
    return 0
