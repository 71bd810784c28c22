"""Evaluate a checkpoint on a config's test set (mmpose's tools/test.py flags).

    python tools/test.py configs/hrnet_w32_coco.py work_dirs/x/best_coco_AP_epoch_210.pth [--out metrics.json]
    tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import sys

from pose_plugins.apis.test import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main))
