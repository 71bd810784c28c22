"""A real mmengine ``Runner`` around a 5-parameter model, for in-process tests of the engine hooks (seconds, not
the demo config's minute): the hooks see the same calls (``before_save_checkpoint``, ``after_val_epoch``, resume)
as in a pose run.

The data draw noise from all three global streams (Python ``random``, numpy's, torch's) in ``__getitem__``, as
mmpose's random augmentations do, and the sampler shuffles, so a resumed run that restores any stream wrongly
ends with other weights. Validation draws from them too, and is scored (``err``, lower is better) so that
``save_best`` writes best checkpoints.
"""
import random
import uuid
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

NUM_SAMPLES = 8
BATCH_SIZE = 2  # 4 iterations per epoch


class NoisyDataset(Dataset):
    def __len__(self) -> int:
        return NUM_SAMPLES

    def __getitem__(self, index: int) -> dict:
        noise = torch.randn(4) + float(np.random.rand()) + random.random()
        return dict(inputs=torch.full((4,), float(index)) / NUM_SAMPLES + 0.1 * noise,
                    target=torch.tensor(float(index) / NUM_SAMPLES))


class ToyModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, inputs, target, mode: str = 'tensor'):
        pred = self.linear(torch.stack(inputs)).squeeze(1)
        target = torch.stack(target)
        if mode == 'loss':
            return dict(loss=((pred - target) ** 2).mean())
        return list((pred - target).abs())


class ToyMetric(BaseMetric):
    def process(self, data_batch, data_samples) -> None:
        self.results.extend(float(e) for e in data_samples)

    def compute_metrics(self, results: list) -> dict:
        return dict(err=sum(results) / len(results))


class CrashAt(Hook):
    """Raise :class:`SimulatedCrash` before batch ``batch`` of epoch ``epoch`` (1-based)."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if (runner.epoch + 1, batch_idx) == (self.epoch, self.batch):
            raise SimulatedCrash(f'crash before batch {batch_idx} of epoch {self.epoch}')


class SimulatedCrash(Exception):
    pass


def make_runner(work_dir: Path, *, checkpoint_hook: Hook, rng_hook: Optional[Hook] = None, max_epochs: int = 2,
                resume: bool = False, custom_hooks: tuple = (), num_workers: int = 0,
                persistent_workers: bool = False) -> Runner:
    loader = dict(dataset=NoisyDataset(), sampler=dict(type='DefaultSampler', shuffle=True),
                  batch_size=BATCH_SIZE, num_workers=num_workers,
                  persistent_workers=persistent_workers and num_workers > 0)
    default_hooks = dict(checkpoint=checkpoint_hook, logger=dict(type='LoggerHook', interval=100))
    if rng_hook is not None:
        default_hooks['rng_state'] = rng_hook
    torch.manual_seed(0)  # the same initial weights in every run (a config-built model is built after seeding)
    return Runner(
        model=ToyModel(), work_dir=str(work_dir), experiment_name=f'toy_{uuid.uuid4().hex}',
        train_dataloader=loader,
        val_dataloader=dict(loader, sampler=dict(type='DefaultSampler', shuffle=False), num_workers=0,
                            persistent_workers=False),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1), val_cfg=dict(),
        val_evaluator=[ToyMetric()], optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        default_hooks=default_hooks, custom_hooks=list(custom_hooks), randomness=dict(seed=0), resume=resume,
        default_scope='mmengine', log_level='WARNING')


def final_weights(runner: Runner) -> dict:
    return {k: v.clone() for k, v in runner.model.state_dict().items()}
