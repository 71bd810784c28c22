"""Shared fixtures: a tiny synthetic COCO-format set generated once per test session, seeded RNGs; and the
helpers the unit tests share (``from conftest import randomize_norms``: pytest puts tests/ on ``sys.path``)."""
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

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


def image(*shape: int, seed: int = 0) -> torch.Tensor:
    """A seeded standard-normal tensor of ``shape`` (a batch of images or features)."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def randomize_norms(model: nn.Module, seed: int) -> nn.Module:
    """Non-trivial running statistics (BatchNorm) and affine parameters (every BatchNorm / GroupNorm), so that
    eval-mode outputs test the norms too: running_mean N(0, 0.1^2), running_var U(0.5, 1.5), weight U(0.5, 1.5),
    bias N(0, 0.1^2), drawn in that order, module by module. Returns ``model``."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            if isinstance(m, (_BatchNorm, nn.GroupNorm)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    return model


def randomize_state(module: nn.Module, seed: int, *, std: float, skip: Sequence[str] = ()) -> nn.Module:
    """Every parameter and buffer of ``module`` random, so eval-mode outputs test all of them: N(0, std^2), but
    ``running_var`` U(0.5, 1.5); ``num_batches_tracked`` and names containing a string of ``skip`` are left
    alone. Returns ``module``."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith('num_batches_tracked') or any(s in name for s in skip):
                continue
            if name.endswith('running_var'):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            else:
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * std)
    return module
