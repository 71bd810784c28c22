"""Print parameters and FLOPs (multiply-adds) of configs' models at their input sizes, as a Markdown table.

    python tools/model_complexity.py                       # every model config in configs/ (not demo/_base_)
    python tools/model_complexity.py configs/hrnet_w32_coco.py [--input-hw 256 192]
"""
import argparse
import glob
import os.path as osp
import sys

from pose_plugins.analysis import model_complexity
from pose_plugins.cli import ToolArgumentParser, load_config, run_tool


def main() -> None:
    parser = ToolArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files (default: configs/*.py)')
    parser.add_argument('--input-hw', type=int, nargs=2, metavar=('H', 'W'), help='override the input size')
    args = parser.parse_args()
    root = osp.join(osp.dirname(osp.abspath(__file__)), '..', 'configs')
    configs = args.configs or sorted(glob.glob(osp.join(root, '*.py')))
    print('| config | input (HxW) | params (M) | GFLOPs |')
    print('| --- | --- | --- | --- |')
    for path in configs:
        c = model_complexity(load_config(path), tuple(args.input_hw) if args.input_hw else None)
        print(f'| {osp.basename(path)} | {c.input_hw[0]}x{c.input_hw[1]} | {c.params / 1e6:.2f} | '
              f'{c.flops / 1e9:.2f} |')


if __name__ == '__main__':
    sys.exit(run_tool(main))
