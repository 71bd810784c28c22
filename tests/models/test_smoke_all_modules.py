"""One smoke test over every model class registered under the pose_plugins scope.

Each registered class must have a tiny case in ``tests/smoke_cases/*.py`` (``conftest.SMOKE_CASES``; a module-level
``CASES`` dict: name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)); a new class
without one fails `test_every_class_has_a_case`. Forward gives the documented shape, no NaN/inf, and a gradient
reaches every trainable parameter.
"""
import importlib.util

import pytest
import torch

import pose_plugins  # noqa: F401
from conftest import SMOKE_CASES
from pose_plugins.registry import MODELS


def _load_cases() -> dict:
    cases: dict = {}
    for path in sorted(SMOKE_CASES.glob('*.py')):
        spec = importlib.util.spec_from_file_location(f'smoke_cases_{path.stem}', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        clash = set(cases) & set(module.CASES)
        assert not clash, f'{path.name} redefines smoke cases {clash}'
        cases.update(module.CASES)
    return cases


CASES = _load_cases()


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
