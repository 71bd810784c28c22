"""Reduce a training checkpoint to a published one (as mmpose's tools/misc/publish_model.py).

    python tools/publish_model.py work_dirs/hrnet/epoch_210.pth published/hrnet_w32_coco

keeps ``state_dict`` and ``meta`` (numpy values in meta become lists), removes ``optimizer``, ``message_hub``,
``param_schedulers`` and any other training state, and writes ``OUT_PREFIX-<sha256[:8]>.pth``, which loads with
``torch.load(f, weights_only=True)`` and no allowlist. An existing file is never overwritten.
"""
import sys

from pose_plugins.apis.publish_model import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
