"""Convert a checkpoint of an original implementation (or of mmpose 0.x) to our parameter names.

    python tools/convert_checkpoint.py SRC OUT --layout pose_hrnet [--config configs/hrnet_w32_coco.py]

Layouts: pose_hrnet (deep-high-resolution-net.pytorch), pose_resnet (human-pose-estimation.pytorch), hourglass
(princeton-vl/pytorch_stacked_hourglass), posenet3d (3DMPPE PoseNet), torchvision_resnet (ImageNet weights for
``backbone.init_cfg=dict(type='Pretrained', checkpoint=OUT)``), mmpose0x (mmpose 0.x top-down). ``module.``
prefixes are removed. Every source key that is not converted is printed (unused by the source model, or unknown
to the layout); with ``--config`` the converted weights are loaded into the config's model and the keys it
misses or does not expect, and any shape mismatch, are printed too, and the exit status is 1 if there are any.
OUT is never overwritten.
"""
import sys

from pose_plugins.apis.convert_checkpoint import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
