"""train() / eval() of every backbone (PoseBackbone): they return the module itself, as torch's do (mmpose's
BaseBackbone.train returns None, so ``model.eval()(x)`` would fail), and norm_eval survives ``.train()``."""
import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import image
from pose_plugins.models.backbones.hrnet import HRNet
from pose_plugins.models.backbones.resnet import ResNet
from pose_plugins.models.backbones.stacked_hourglass import StackedHourglass
from pose_plugins.models.layers.pose_backbone import PoseBackbone

HRNET_TINY = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(4, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(4, 8)))

BACKBONES = {
    'resnet18-narrow': lambda **kw: ResNet(depth=18, stem_channels=8, base_channels=8, **kw),
    'hrnet-2-stages': lambda **kw: HRNet(extra=HRNET_TINY, **kw),
    'hourglass-1-stack': lambda **kw: StackedHourglass(out_channels=2, num_stacks=1, order=1, num_channels=8,
                                                       stem_channels=(4, 8), **kw),
}


@pytest.mark.parametrize('name', list(BACKBONES))
def test_train_and_eval_return_the_module_and_chain(name):
    model = BACKBONES[name]()
    assert isinstance(model, PoseBackbone)
    assert model.eval() is model and not model.training
    assert model.train() is model and model.training
    assert model.train(False) is model and not model.training
    x = image(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        chained = model.train().eval()(x)  # an error with mmpose's BaseBackbone.train (None is not callable)
    assert all(torch.equal(a, b) for a, b in zip(chained, expected))


@pytest.mark.parametrize('name', ['resnet18-narrow', 'hrnet-2-stages'])
def test_norm_eval_keeps_every_batchnorm_in_eval_mode_after_train(name):
    model = BACKBONES[name](norm_eval=True)
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms
    for switch in (model.train, model.eval, model.train, lambda: model.train(True)):
        assert switch() is model
        assert all(not m.training for m in norms)
    assert model.training and any(m.training for m in model.modules() if not isinstance(m, _BatchNorm))
    plain = BACKBONES[name]().train()
    assert all(m.training for m in plain.modules())  # without norm_eval, .train() reaches the norms too
