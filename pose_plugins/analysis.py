"""Parameter and FLOP counts of a config's model at its input size (mmengine's ``FlopAnalyzer``).

One multiply-add counts as one FLOP, as in the HRNet / SimpleBaseline papers and mmpose's model zoo.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from mmengine.config import Config

__all__ = ['Complexity', 'model_complexity']


@dataclass(frozen=True)
class Complexity:
    """Counts for one model: ``params`` (all parameters), ``flops`` (multiply-adds, one image), ``input_hw``."""

    params: int
    flops: int
    input_hw: Tuple[int, int]


class _TensorMode(torch.nn.Module):
    """``estimator(inputs, None, mode='tensor')`` as a one-argument module for the tracer."""

    def __init__(self, estimator: torch.nn.Module) -> None:
        super().__init__()
        self.estimator = estimator

    def forward(self, inputs: torch.Tensor):
        return self.estimator(inputs, None, mode='tensor')


def _input_hw(cfg: Config) -> Tuple[int, int]:
    """(H, W) of the model input: the codec's ``input_size``, else the test pipeline's ``TopdownAffine``'s."""
    codec = cfg.get('codec')
    if isinstance(codec, (list, tuple)):
        codec = codec[0]
    size = codec.get('input_size') if codec is not None else None
    if size is None:
        pipeline = (cfg.get('test_dataloader') or {}).get('dataset', {}).get('pipeline', [])
        size = next((step['input_size'] for step in pipeline if str(step.get('type', '')).endswith('TopdownAffine')),
                    None)
    if size is None:
        raise KeyError('config has no `codec` with `input_size` and no TopdownAffine in its test pipeline; pass '
                       'input_hw explicitly')
    width, height = size
    return int(height), int(width)


def model_complexity(cfg: Config, input_hw: Optional[Tuple[int, int]] = None) -> Complexity:
    """Count parameters and FLOPs of ``cfg.model`` (random init, eval mode) on a (1, 3, H, W) input;
    ``input_hw`` overrides the (H, W) read from the config."""
    from mmengine.analysis import FlopAnalyzer
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    init_default_scope(cfg.get('default_scope', 'mmpose'))
    hw = input_hw or _input_hw(cfg)
    model = MODELS.build(cfg.model).eval()
    params = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        analyzer = FlopAnalyzer(_TensorMode(model), inputs=(torch.zeros(1, 3, *hw), ))
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        flops = analyzer.total()
    return Complexity(params=params, flops=int(flops), input_hw=hw)
