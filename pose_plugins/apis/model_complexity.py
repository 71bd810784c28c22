"""``tools/model_complexity.py``: parameters and FLOPs of configs' models
(:func:`pose_plugins.analysis.model_complexity`) as a Markdown table."""
import argparse
import glob
import os.path as osp
from typing import Optional, Sequence

from pose_plugins.analysis import Complexity, model_complexity
from pose_plugins.apis import CONFIGS_DIR
from pose_plugins.cli import ToolArgumentParser, load_config

__all__ = ['main']


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> list[Complexity]:
    """``tools/model_complexity.py`` (``argv`` None: ``sys.argv[1:]``): print a row per config (default: every
    ``configs/*.py``) and return the counts; ``description`` heads ``--help``."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files (default: configs/*.py)')
    parser.add_argument('--input-hw', type=int, nargs=2, metavar=('H', 'W'), help='override the input size')
    args = parser.parse_args(argv)
    configs = args.configs or sorted(glob.glob(osp.join(CONFIGS_DIR, '*.py')))
    print('| config | input (HxW) | params (M) | GFLOPs |')
    print('| --- | --- | --- | --- |')
    counts = []
    for path in configs:
        c = model_complexity(load_config(path), tuple(args.input_hw) if args.input_hw else None)
        print(f'| {osp.basename(path)} | {c.input_hw[0]}x{c.input_hw[1]} | {c.params / 1e6:.2f} | '
              f'{c.flops / 1e9:.2f} |')
        counts.append(c)
    return counts
