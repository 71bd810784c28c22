"""The one way each of pose_plugins.models.layers to build conv-norm-act (ConvNormAct), to name norms
(NamedNormMixin) and to checkpoint activations (CheckpointMixin): names, layouts, hand-computed shapes, errors."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from conftest import image
from pose_plugins.models.layers.checkpoint_mixin import CheckpointMixin
from pose_plugins.models.layers.conv_norm_act import ConvNormAct
from pose_plugins.models.layers.named_norm import NamedNormMixin


def test_conv_norm_act_children_are_sequential_indices():
    block = ConvNormAct(4, 8, kernel_size=3, stride=2)
    assert [type(m).__name__ for m in block] == ['Conv2d', 'BatchNorm2d', 'ReLU']
    assert isinstance(block, nn.Sequential)
    assert list(block.state_dict()) == ['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var',
                                        '1.num_batches_tracked']
    conv = block[0]
    assert conv.bias is None and conv.padding == (1, 1) and conv.stride == (2, 2) and block[2].inplace
    assert block(image(1, 4, 9, 7)).shape == (1, 8, 5, 4)  # ceil(9 / 2), ceil(7 / 2)
    plain = ConvNormAct(4, 8, kernel_size=1, relu=False)
    assert len(plain) == 2 and plain[0].padding == (0, 0)


def test_conv_norm_act_equals_mmcv_conv_module_numerically():
    """Same layers as ConvModule (whose names are ``conv`` / ``bn``), only the names differ."""
    torch.manual_seed(0)
    ours = ConvNormAct(3, 6, kernel_size=3, dilation=2, norm_cfg=dict(type='GN', num_groups=3))
    reference = ConvModule(3, 6, 3, padding=2, dilation=2, norm_cfg=dict(type='GN', num_groups=3))
    ours.load_state_dict({k.replace('conv.', '0.').replace('gn.', '1.'): v
                          for k, v in reference.state_dict().items()}, strict=True)
    x = image(2, 3, 8, 8)
    assert ours[0].padding == (2, 2)  # "same": dilation * (kernel_size // 2)
    torch.testing.assert_close(ours(x), reference(x), rtol=0, atol=0)  # identical modules, identical ops


@pytest.mark.parametrize('kernel_size,padding,output_padding', [(4, 1, 0), (3, 1, 1), (2, 0, 0)])
def test_conv_norm_act_transposed_doubles_the_size(kernel_size, padding, output_padding):
    block = ConvNormAct(4, 2, kernel_size=kernel_size, stride=2, padding=padding, output_padding=output_padding,
                        conv_cfg=dict(type='deconv'))
    assert isinstance(block[0], nn.ConvTranspose2d) and block[0].bias is None
    # (H - 1) * 2 - 2 * padding + kernel_size + output_padding = 2 * H
    assert block(image(1, 4, 5, 3)).shape == (1, 2, 10, 6)


class _Named(NamedNormMixin, nn.Module):
    norm1 = NamedNormMixin.norm_property(1)
    norm2 = NamedNormMixin.norm_property(2)

    def __init__(self, norm_cfg):
        super().__init__()
        self._add_conv_norm(1, 3, 4, kernel_size=3, stride=2, conv_cfg=None, norm_cfg=norm_cfg)
        self._add_norm(2, 4, norm_cfg)


@pytest.mark.parametrize('norm_cfg,names', [
    (None, ('bn1', 'bn2')),
    (dict(type='BN'), ('bn1', 'bn2')),
    (dict(type='SyncBN'), ('bn1', 'bn2')),
    (dict(type='GN', num_groups=2), ('gn1', 'gn2')),
    (dict(type='IN'), ('in1', 'in2')),
], ids=['default', 'bn', 'syncbn', 'gn', 'in'])
def test_named_norms_follow_mmcv_names_and_properties_find_them(norm_cfg, names):
    module = _Named(norm_cfg)
    assert [name for name, _ in module.named_children()] == ['conv1', *names]  # conv before its norm
    assert (module.norm1_name, module.norm2_name) == names
    assert module.norm1 is getattr(module, names[0]) and module.get_norm(2) is getattr(module, names[1])
    assert module.conv1.stride == (2, 2) and module.conv1.bias is None and module.conv1.padding == (1, 1)
    assert _Named.norm1.__doc__.startswith('The norm layer ``norm1``')


class _Counted(CheckpointMixin, nn.Module):
    def __init__(self, with_cp):
        super().__init__()
        self.with_cp = with_cp
        self.conv = nn.Conv2d(2, 2, 3, padding=1)
        self.calls = 0

    def _inner(self, x):
        self.calls += 1
        return self.conv(x).relu()

    def forward(self, x):
        return self._maybe_checkpoint(self._inner, x)


def test_checkpoint_mixin_recomputes_in_backward_only_when_asked():
    torch.manual_seed(0)
    plain, ckpt = _Counted(False), _Counted(True)
    ckpt.load_state_dict(plain.state_dict())
    x = image(1, 2, 4, 4)
    for module in (plain, ckpt):
        module(x).sum().backward()
    assert plain.calls == 1 and ckpt.calls == 2  # checkpointing runs the function again in backward
    torch.testing.assert_close(ckpt.conv.weight.grad, plain.conv.weight.grad, rtol=0, atol=0)  # same ops
    with torch.no_grad():
        ckpt(x)
    assert ckpt.calls == 3  # no grad: no checkpoint, one call
