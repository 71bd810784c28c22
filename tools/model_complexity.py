"""Print parameters and FLOPs (multiply-adds) of configs' models at their input sizes, as a Markdown table.

    python tools/model_complexity.py                       # every model config in configs/ (not demo/_base_)
    python tools/model_complexity.py configs/hrnet_w32_coco.py [--input-hw 256 192]
"""
import sys

from pose_plugins.apis.model_complexity import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
