"""The training step as each benchmarked recipe runs it: mmpose's fp32 recipe and ours with each speed lever
(no host sync, fused Adam, bf16 + channels_last, compiled blocks, CUDA graphs), on a model built from a config."""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Union

import mmpose
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from pose_plugins.apis import CONFIGS_DIR
from pose_plugins.apis.mmpose_configs import mmpose_equivalent
from pose_plugins.cli import load_config
from pose_plugins.engine import FastGPUTrainingHook, read_scalars

__all__ = ['MMPOSE_CONFIG', 'OUR_CONFIG', 'RECIPES', 'Recipe', 'Stepper', 'build_recipe', 'device_sync', 'make_batch',
           'model_config']

MMPOSE_CONFIG = 'body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py'
OUR_CONFIG = osp.join(CONFIGS_DIR, 'hrnet_w32_coco.py')


@dataclass(frozen=True)
class Recipe:
    """One way of running the training step. ``mmpose``: mmpose's config and classes; ``host_sync``: the log
    values read back after every step (mmengine's ``RuntimeInfoHook``), else once per timed repeat
    (:class:`~pose_plugins.engine.LazyRuntimeInfoHook`); ``fused``: Adam's fused kernel; ``bf16``: bf16 autocast
    (``AmpOptimWrapper``, no loss scaling); ``channels_last``; ``compile`` / ``compile_mode``: as
    :class:`~pose_plugins.engine.FastGPUTrainingHook`."""
    mmpose: bool = False
    host_sync: bool = True
    fused: bool = False
    bf16: bool = False
    channels_last: bool = False
    compile: Union[bool, str] = False
    compile_mode: Optional[str] = None


#: The recipes, each adding one lever to the one before; ``ours fast`` is ``tools/train.py --fast-gpu`` and
#: ``ours fast compile`` ``--fast-gpu --compile``.
RECIPES: Dict[str, Recipe] = {
    'mmpose fp32': Recipe(mmpose=True),
    'ours fp32': Recipe(),
    'ours fp32 nosync': Recipe(host_sync=False),
    'ours fp32 nosync fused': Recipe(host_sync=False, fused=True),
    'ours fast': Recipe(host_sync=False, fused=True, bf16=True, channels_last=True),
    'ours fast compile': Recipe(host_sync=False, fused=True, bf16=True, channels_last=True, compile='blocks'),
    'ours fast compile cudagraphs': Recipe(host_sync=False, fused=True, bf16=True, channels_last=True,
                                           compile='blocks', compile_mode='reduce-overhead'),
}


def model_config(recipe: Recipe, config: str) -> Any:
    """The config a recipe builds: mmpose's own HRNet-W32 file for ``mmpose`` recipes with our W32 config,
    :func:`~pose_plugins.apis.benchmark.mmpose_equivalent` of another ``config``, else ``config``; random init."""
    if recipe.mmpose and osp.abspath(config) == osp.abspath(OUR_CONFIG):
        cfg = load_config(osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', MMPOSE_CONFIG))
    elif recipe.mmpose:
        cfg = mmpose_equivalent(load_config(config))
    else:
        cfg = load_config(config)
    cfg.model.pop('init_cfg', None)
    cfg.model.backbone.pop('init_cfg', None)  # no pretrained download: random init (speed does not depend on it)
    return cfg


def build_recipe(recipe: Recipe, config: str, device: str, *, state_dict: Optional[dict] = None) -> tuple:
    """(model in train mode on ``device``, optimizer wrapper, config) for ``recipe``: seed 0, or ``state_dict``
    (mmpose's parameter names, which ours keep) loaded strictly; Adam with the config's lr."""
    init_default_scope('mmpose')
    cfg = model_config(recipe, config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).to(device)
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    model.train()
    if recipe.channels_last or recipe.compile:
        hook = FastGPUTrainingHook(channels_last=recipe.channels_last, compile=recipe.compile,
                                   compile_mode=recipe.compile_mode)
        if not hook.apply(model) and recipe.compile:
            hook.compile_model(model)  # off CUDA: compile only (channels_last is for GPUs)
    lr = cfg.optim_wrapper.optimizer.lr
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, **({'fused': True} if recipe.fused else {}))
    if recipe.bf16:
        wrapper = AmpOptimWrapper(optimizer=optimizer, dtype='bfloat16', loss_scale=dict(enabled=False))
    else:
        wrapper = OptimWrapper(optimizer=optimizer)
    return model, wrapper, cfg


def make_batch(batch: int, device: str, cfg: Any, *, seed: int = 0) -> dict:
    """A training batch as the data loader + ``pseudo_collate`` give it: uint8 images and data samples with
    heatmap targets (K, H, W) and keypoint weights (1, K), already on ``device``."""
    g = torch.Generator().manual_seed(seed)
    w, h = cfg.codec['input_size']
    hw, hh = cfg.codec['heatmap_size']
    k = cfg.model.head.out_channels
    inputs = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8).to(device) for _ in range(batch)]
    samples = []
    for _ in range(batch):
        sample = PoseDataSample(metainfo=dict(input_size=(w, h), flip_indices=list(range(k))))
        sample.gt_fields = PixelData(heatmaps=torch.rand(k, hh, hw, generator=g).to(device))
        sample.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, k).to(device))
        sample.gt_instances = InstanceData()
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


class Stepper:
    """``model.train_step`` with the log reading of ``recipe``: every step (``host_sync``) or in one copy at
    :meth:`flush`; :attr:`losses` keeps every step's total loss once read."""

    def __init__(self, model: Any, wrapper: Any, recipe: Recipe) -> None:
        self.model, self.wrapper, self.recipe = model, wrapper, recipe
        self.pending: List[Any] = []
        self.losses: List[float] = []

    def __call__(self, batch: dict) -> None:
        log_vars = self.model.train_step(batch, self.wrapper)
        if self.recipe.host_sync:
            values = {key: value.item() for key, value in log_vars.items()}  # what RuntimeInfoHook does
            self.losses.append(values['loss'])
        else:
            self.pending.append(log_vars)

    def flush(self) -> None:
        """Read every pending step's log values back in one copy, as ``LazyRuntimeInfoHook`` does."""
        values = read_scalars([value for log_vars in self.pending for value in log_vars.values()])
        offset = 0
        for log_vars in self.pending:
            self.losses.append(values[offset + list(log_vars).index('loss')])
            offset += len(log_vars)
        self.pending = []


def device_sync(device: str) -> Callable[[], None]:
    """A function that waits for ``device`` (CUDA), or does nothing."""
    return torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
