"""Reduce a training checkpoint to a published one (as mmpose's tools/misc/publish_model.py).

    python tools/publish_model.py work_dirs/hrnet/epoch_210.pth published/hrnet_w32_coco

keeps ``state_dict`` and ``meta`` (numpy values in meta become lists), removes ``optimizer``, ``message_hub``,
``param_schedulers`` and any other training state, and writes ``OUT_PREFIX-<sha256[:8]>.pth``, which loads with
``torch.load(f, weights_only=True)`` and no allowlist. An existing file is never overwritten.
"""
import argparse
import os.path as osp
import sys

from pose_plugins.deploy.checkpoint_publishing import publish_checkpoint


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('in_file', help='training checkpoint')
    parser.add_argument('out_prefix', help='output path without the hash (a trailing .pth is removed)')
    args = parser.parse_args()
    if not osp.isfile(args.in_file):
        parser.error(f'input checkpoint {args.in_file} does not exist')
    try:
        final, removed, dropped = publish_checkpoint(args.in_file, args.out_prefix)
    except (ValueError, FileExistsError) as err:
        print(f'publish_model: {err}', file=sys.stderr)
        return 1
    for key in removed:
        print(f'removed: {key}')
    for entry in dropped:
        print(f'dropped (not a plain value): {entry}')
    print(f'wrote {final}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
