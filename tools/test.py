"""Evaluate a checkpoint on a config's test set (mmpose's tools/test.py flags).

    python tools/test.py configs/hrnet_w32_coco.py work_dirs/x/best_coco_AP_epoch_210.pth [--out metrics.json]
    tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import json
import sys

import pose_plugins  # noqa: F401  (installs compat adapters and registers our classes)
from pose_plugins.cli import build_runner, parse_test_args, prepare_test_config, run_tool


def main() -> None:
    args = parse_test_args()
    cfg = prepare_test_config(args)
    runner = build_runner(cfg, args.launcher)
    metrics = runner.test()
    if args.out is not None and runner.rank == 0:
        with open(args.out, 'x') as f:  # 'x': never overwrite a file the user owns
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=2)


if __name__ == '__main__':
    sys.exit(run_tool(main))
