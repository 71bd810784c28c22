"""One smoke test over every model class registered under the pose_plugins scope.

Each registered class must have a tiny case here (a new class without one fails `test_every_class_has_a_case`):
forward gives the documented shape, no NaN/inf, and a gradient reaches every trainable parameter.
"""
import pytest
import torch

import pose_plugins  # noqa: F401
from pose_plugins.registry import MODELS

TINY_HRNET = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(8, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(4, 8)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(4, 8, 16)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                num_channels=(4, 8, 16, 32)))
CODEC = dict(type='pose_plugins.MSRAHeatmap', input_size=(32, 32), heatmap_size=(16, 16), sigma=2)


def _heatmaps(b=2, k=17, h=16, w=16):
    return torch.rand(b, k, h, w, requires_grad=True)


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    'HRNet': (dict(extra=TINY_HRNET), lambda m: m(torch.rand(2, 3, 64, 48))[0], (2, 4, 16, 12)),
    'HeatmapHead': (dict(in_channels=8, out_channels=17, deconv_out_channels=(8, ), deconv_kernel_sizes=(4, ),
                         decoder=CODEC),
                    lambda m: m((torch.rand(2, 8, 8, 8), )), (2, 17, 16, 16)),
    'KeypointMSELoss': (dict(use_target_weight=True),
                        lambda m: m(_heatmaps(), torch.rand(2, 17, 16, 16), torch.rand(2, 17)), ()),
    'KeypointOHKMMSELoss': (dict(use_target_weight=True, topk=8),
                            lambda m: m(_heatmaps(), torch.rand(2, 17, 16, 16), torch.rand(2, 17)), ()),
}


def test_every_class_has_a_case():
    assert set(MODELS.module_dict) == set(CASES), 'add a tiny case for each newly registered class'


@pytest.mark.parametrize('name', sorted(CASES))
def test_forward_shape_finite_and_gradients(name):
    kwargs, run, shape = CASES[name]
    module = MODELS.build(dict(type=f'pose_plugins.{name}', **kwargs))
    if hasattr(module, 'init_weights'):
        module.init_weights()
    module.train()
    out = run(module)
    assert tuple(out.shape) == shape
    assert torch.isfinite(out).all()
    out.float().pow(2).mean().backward() if out.dim() else out.backward()
    missing = [n for n, p in module.named_parameters() if p.requires_grad and (p.grad is None or
                                                                               not torch.isfinite(p.grad).all())]
    assert not missing, f'{name}: no (finite) gradient for {missing[:5]}'
