"""Write a synthetic COCO person-keypoints dataset (mmpose's ``data/coco`` layout) for tests, demos and benchmarks.

    python tools/make_synthetic_coco.py --out-dir data/synthetic_coco --num-train 1000 --num-val 100 --seed 0
    python tools/make_synthetic_coco.py --out-dir /tmp/hard --image-size 320 240 --occlusion-prob 0.5 \\
        --back-facing-prob 0.2 --marker-radius 0

Every field of ``pose_plugins.datasets.synthetic.SyntheticCocoConfig`` is an option (``--image-size W H``,
``--people-per-image MIN MAX``, ``--num-degenerate-annotations N``, ``--side-colours`` ...); see ``--help``.
The same seed and options give byte-identical files. Point a COCO config at the output with
``data_root=OUT/`` (and ``bbox_file=OUT/person_detection_results/val_gt_boxes.json`` for GT-box evaluation).
"""
import argparse
import dataclasses
import time
import typing
from typing import Dict, List, Optional

from pose_plugins.datasets.synthetic import SyntheticCocoConfig, make_synthetic_coco


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


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out-dir', required=True, help='dataset root (data_root of a COCO config)')
    parser.add_argument('--num-train', type=int, default=1000, help='images in train2017 (default: 1000)')
    parser.add_argument('--num-val', type=int, default=100, help='images in val2017 (default: 100)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default: 0)')
    _add_config_options(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, str]:
    args = parse_args(argv)
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


if __name__ == '__main__':
    main()
