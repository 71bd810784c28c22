"""Train a model from a config with mmengine's Runner (mmpose's tools/train.py flags).

    python tools/train.py configs/hrnet_w32_coco.py [--work-dir DIR] [--resume [CKPT]] [--amp] [--deterministic]
    python tools/train.py configs/hrnet_w32_coco.py --fast-gpu [--compile]   # bf16 + channels_last on a GPU
    tools/dist_train.sh configs/hrnet_w32_coco.py 8      # torchrun; NCCL on GPUs, gloo on CPU

Every run saves crash-safe checkpoints that carry the random streams, so ``--resume`` after a crash or a ``kill -9``
continues from the last complete checkpoint, exactly where mmengine allows (docs/reliability.md).
"""
import sys

from pose_plugins.apis.train import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main))
