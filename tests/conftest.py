"""Shared fixtures: a tiny synthetic COCO-format set generated once per test session, seeded RNGs."""
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / 'configs' / 'demo' / 'hrnet_tiny_synthetic.py'


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory) -> Path:
    """12 train / 4 val synthetic images (COCO layout, GT boxes file included)."""
    from pose_plugins.datasets import make_synthetic_coco
    root = tmp_path_factory.mktemp('synthetic_coco')
    make_synthetic_coco(str(root), num_train_images=12, num_val_images=4, seed=123)
    return root


def tiny_run_options(root: Path, *, max_epochs: int = 1) -> list:
    """--cfg-options that point the demo config at ``root`` and shrink the run to seconds."""
    r = f'{root}/'
    return [
        f'data_root={r}', f'train_dataloader.dataset.data_root={r}', f'val_dataloader.dataset.data_root={r}',
        f'val_dataloader.dataset.bbox_file={r}person_detection_results/val_gt_boxes.json',
        f'val_evaluator.ann_file={r}annotations/person_keypoints_val2017.json',
        f'test_dataloader.dataset.data_root={r}',
        f'test_dataloader.dataset.bbox_file={r}person_detection_results/val_gt_boxes.json',
        f'test_evaluator.ann_file={r}annotations/person_keypoints_val2017.json',
        'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'val_dataloader.batch_size=8', 'test_dataloader.batch_size=8',
        f'train_cfg.max_epochs={max_epochs}', 'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=5',
    ]


def run_tool(args: list, *, timeout: int = 600, env_extra: dict = None):
    """Run a repo tool (python script or shell script) from the repo root; returns CompletedProcess."""
    import subprocess
    env = dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{os.environ.get("PYTHONPATH", "")}',
               OMP_NUM_THREADS='1')
    env.update(env_extra or {})
    cmd = ([sys.executable] + args) if args[0].endswith('.py') else ['bash'] + args
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
