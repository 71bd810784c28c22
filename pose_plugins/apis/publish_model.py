"""``tools/publish_model.py``: a training checkpoint reduced to a published one by
:func:`pose_plugins.deploy.checkpoint_publishing.publish_checkpoint`."""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

from pose_plugins.cli import ToolArgumentParser, error_message
from pose_plugins.deploy.checkpoint_publishing import publish_checkpoint

__all__ = ['main']


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> int:
    """``tools/publish_model.py`` (``argv`` None: ``sys.argv[1:]``): returns the exit status, 1 when the checkpoint
    cannot be published or the output exists; a missing input exits with 2."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('in_file', help='training checkpoint')
    parser.add_argument('out_prefix', help='output path without the hash (a trailing .pth is removed)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.in_file):
        parser.error(f'input checkpoint {args.in_file} does not exist')
    try:
        final, removed, dropped = publish_checkpoint(args.in_file, args.out_prefix)
    except (ValueError, FileExistsError) as err:
        print(f'{parser.prog}: error: {error_message(err)}', file=sys.stderr)
        return 1
    for key in removed:
        print(f'removed: {key}')
    for entry in dropped:
        print(f'dropped (not a plain value): {entry}')
    print(f'wrote {final}')
    return 0
