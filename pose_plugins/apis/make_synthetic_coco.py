"""``tools/make_synthetic_coco.py``: one flag per :class:`~pose_plugins.synthetic.SyntheticCocoConfig` field, and
:func:`~pose_plugins.synthetic.make_synthetic_coco` with them."""
import argparse
import dataclasses
import time
import typing
from typing import Dict, Optional, Sequence

from pose_plugins.cli import ToolArgumentParser
from pose_plugins.synthetic import SyntheticCocoConfig, make_synthetic_coco

__all__ = ['main', 'parse_args']


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """One option per ``SyntheticCocoConfig`` field, typed after the field's annotation and default."""
    group = parser.add_argument_group('generation options (SyntheticCocoConfig fields)')
    hints = typing.get_type_hints(SyntheticCocoConfig)
    for field in dataclasses.fields(SyntheticCocoConfig):
        flag = '--' + field.name.replace('_', '-')
        hint = hints[field.name]
        if hint is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                               help=f'default: {field.default}')
        elif typing.get_origin(hint) is tuple:
            element = typing.get_args(hint)[0]
            group.add_argument(flag, type=element, nargs=len(field.default), default=None,
                               metavar=('W', 'H') if field.name == 'image_size' else ('MIN', 'MAX'),
                               help=f'default: {" ".join(str(v) for v in field.default)}')
        else:
            group.add_argument(flag, type=hint, default=None, help=f'default: {field.default}')


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/make_synthetic_coco.py``'s flags (``argv`` None: ``sys.argv[1:]``); a field not given is None."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out-dir', required=True, help='dataset root (data_root of a COCO config)')
    parser.add_argument('--num-train', type=int, default=1000, help='images in train2017 (default: 1000)')
    parser.add_argument('--num-val', type=int, default=100, help='images in val2017 (default: 100)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    _add_config_options(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> Dict[str, str]:
    """Write the set; returns :func:`make_synthetic_coco`'s paths (``data_root``, ``val_ann_file``, ...)."""
    args = parse_args(argv, description=description)
    overrides = {}
    for field in dataclasses.fields(SyntheticCocoConfig):
        value = getattr(args, field.name)
        if value is not None:
            overrides[field.name] = tuple(value) if isinstance(value, list) else value
    config = SyntheticCocoConfig(**overrides)
    start = time.time()
    paths = make_synthetic_coco(args.out_dir, num_train_images=args.num_train, num_val_images=args.num_val,
                                seed=args.seed, config=config)
    print(f'wrote {args.num_train} train + {args.num_val} val images in {time.time() - start:.1f} s')
    for key, path in paths.items():
        print(f'  {key}: {path}')
    return paths
