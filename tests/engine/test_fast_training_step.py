"""The fast training step (fused Adam, the repeated blocks compiled, ``acc_pose`` on the device) trains as the plain
step does (eager modules, per-parameter Adam): the same losses over several iterations, in float64.

Tolerance, from the computation rather than from a run: the two steps order their floating-point sums differently
(fused vs per-parameter Adam kernels, inductor's fused convolutions / batch norms vs eager ATen), so in float64 they
part at the level of its rounding, 2**-52 ~ 2.2e-16 relative per operation. Adam amplifies a gradient difference
dg into a parameter difference of at most lr * dg / eps (the update is lr * m / (sqrt(v) + eps)), i.e.
5e-4 * 1e-14 / 1e-8 = 5e-10 per parameter and step for gradient noise a hundred times float64's rounding;
over 4 steps and a loss of order 1 with parameters of unit sensitivity that stays below 1e-8 relative. We assert
1e-8. A real difference in the step (another learning rate, a skipped bias correction, a block left in training
mode or frozen) moves the loss by far more: ``test_the_comparison_sees_a_one_percent_learning_rate_change`` shows a
1 % larger learning rate alone moves it far beyond the tolerance after the same steps.
"""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

import pose_plugins  # noqa: F401
from conftest import REPO
from pose_plugins.engine import FastGPUTrainingHook

DEMO = str(REPO / 'configs' / 'demo' / 'hrnet_tiny_synthetic.py')
STEPS = 4
LOSS_RTOL = 1e-8  # the module docstring's derivation


def build_model() -> torch.nn.Module:
    cfg = Config.fromfile(DEMO)
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).double()
    model.init_weights()
    model.train()
    return model


def make_batches(model, count: int, batch: int = 4) -> list:
    """Preprocessed batches (float64 images, heatmap targets with a peak each, weights with some zeros)."""
    g = torch.Generator().manual_seed(1)
    w, h = model.head.decoder.input_size
    hw, hh = model.head.decoder.heatmap_size
    batches = []
    for _ in range(count):
        inputs = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8) for _ in range(batch)]
        samples = []
        for _ in range(batch):
            sample = PoseDataSample(metainfo=dict(input_size=(w, h), flip_indices=list(range(17))))
            heatmaps = torch.rand(17, hh, hw, generator=g, dtype=torch.float64) * 0.1
            heatmaps[:, hh // 2, hw // 2] = 1.0
            sample.gt_fields = PixelData(heatmaps=heatmaps)
            sample.gt_instance_labels = InstanceData(keypoint_weights=(torch.rand(1, 17, generator=g) > 0.2).double())
            sample.gt_instances = InstanceData()
            samples.append(sample)
        data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
        data['inputs'] = data['inputs'].double()
        batches.append(data)
    return batches


def train(model, batches, *, fused: bool, lr: float = 5e-4) -> list:
    """``BaseModel.train_step`` on preprocessed batches: forward, parse_losses, backward, Adam; the losses read
    after the last step (nothing read back inside the steps)."""
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=lr, fused=fused, foreach=False if not fused
                                            else None))
    logged = []
    for data in batches:
        with wrapper.optim_context(model):
            losses = model(**data, mode='loss')
        parsed, log_vars = model.parse_losses(losses)
        wrapper.update_params(parsed)
        logged.append(log_vars)
    return [{k: v.item() for k, v in log_vars.items()} for log_vars in logged]


@pytest.fixture(scope='module')
def plain_run():
    model = build_model()
    batches = make_batches(model, STEPS)
    return model, batches, train(copy.deepcopy(model), batches, fused=False)


def assert_same_losses(fast: list, plain: list, rtol: float) -> None:
    for step, (a, b) in enumerate(zip(fast, plain)):
        assert set(a) == set(b)
        for key in b:
            if key == 'acc_pose':  # counts of argmax hits: equal unless a maximum is within rounding of a tie
                assert a[key] == b[key], (step, key)
            else:
                assert abs(a[key] - b[key]) <= rtol * abs(b[key]), (step, key, a[key], b[key])


def test_fused_adam_trains_as_per_parameter_adam(plain_run):
    model, batches, plain = plain_run
    fast = train(copy.deepcopy(model), batches, fused=True)
    assert_same_losses(fast, plain, LOSS_RTOL)
    assert plain[-1]['loss'] < plain[0]['loss']  # the steps train


@pytest.mark.slow  # inductor compiles the tiny HRNet's blocks' forward and backward on the CPU (~1-2 min)
def test_compiled_blocks_with_fused_adam_train_as_the_plain_step(plain_run):
    model, batches, plain = plain_run
    fast_model = copy.deepcopy(model)
    compiled = FastGPUTrainingHook(channels_last=False, compile='blocks').compile_model(fast_model)
    assert [type(m).__name__ for m in compiled] == ['Bottleneck', 'HRModule', 'HRModule', 'HRModule']
    fast = train(fast_model, batches, fused=True)
    assert_same_losses(fast, plain, LOSS_RTOL)
    assert sorted(fast_model.state_dict()) == sorted(model.state_dict())  # mmpose's parameter names kept


def test_the_comparison_sees_a_one_percent_learning_rate_change(plain_run):
    model, batches, plain = plain_run
    other = train(copy.deepcopy(model), batches, fused=True, lr=5e-4 * 1.01)
    with pytest.raises(AssertionError):
        assert_same_losses(other, plain, LOSS_RTOL)


def test_the_fast_recipes_state_loads_into_mmposes_model_and_plain_adam(plain_run):
    """A checkpoint of the fast step (compiled blocks keep their names; fused Adam's state) loads into mmpose's
    own HRNet model with ``strict=True``, and its optimizer state into per-parameter Adam, which then steps on."""
    from pose_plugins.apis.mmpose_configs import mmpose_equivalent
    model, batches, _ = plain_run
    fast_model = copy.deepcopy(model)
    FastGPUTrainingHook(channels_last=False, compile='blocks').compile_model(fast_model, backend='eager')
    fused = torch.optim.Adam(fast_model.parameters(), lr=5e-4, fused=True)
    wrapper = OptimWrapper(fused)
    parsed, _ = fast_model.parse_losses(fast_model(**batches[0], mode='loss'))
    wrapper.update_params(parsed)
    cfg = mmpose_equivalent(Config.fromfile(DEMO))
    init_default_scope('mmpose')
    theirs = MODELS.build(cfg.model).double()
    assert type(theirs.backbone).__module__.startswith('mmpose.')
    theirs.load_state_dict(fast_model.state_dict(), strict=True)
    plain = torch.optim.Adam(theirs.parameters(), lr=5e-4, foreach=False)
    plain.load_state_dict(fused.state_dict())
    parsed, _ = theirs.parse_losses(theirs(**batches[1], mode='loss'))
    OptimWrapper(plain).update_params(parsed)
    assert all(float(state['step']) == 2 for state in plain.state.values())
