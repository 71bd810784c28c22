"""ResNet with mmpose's ResNet arguments (num_stages, strides, dilations, style, deep_stem, avg_down, expansion,
frozen_stages ...): an mmpose config builds ours by changing ``type`` alone, mmpose's state_dict loads with
strict=True and outputs, BN statistics, frozen parameters and train/eval states agree; plus the checks of mmpose's
own ResNet unit tests (mmpose tests/test_models/test_backbones/test_resnet.py), rewritten for our ResNet at small
widths and input sizes."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpose.registry import MODELS as MMPOSE_MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import image, randomize_norms
from pose_plugins.models.backbones.resnet import ResNet
from pose_plugins.models.layers.basic_block import BasicBlock
from pose_plugins.models.layers.bottleneck import Bottleneck
from pose_plugins.registry import MODELS

# Narrow widths keep the networks small; the stage structure (and every code path) is the published one.
NARROW = dict(stem_channels=8, base_channels=4)

# name -> the keyword arguments of an mmpose ``dict(type='ResNet', ...)`` config (mmpose needs strides and
# dilations spelled out when num_stages < 4).
MMPOSE_CONFIGS = {
    'r18_one_stage': dict(depth=18, num_stages=1, strides=(1, ), dilations=(1, ), out_indices=(0, )),
    'r50_two_stages': dict(depth=50, num_stages=2, strides=(1, 2), dilations=(1, 1), out_indices=(0, 1)),
    'r50_three_stages_dilated': dict(depth=50, num_stages=3, strides=(1, 2, 1), dilations=(1, 1, 2),
                                     out_indices=(1, 2)),
    'r18_dilated_last_stage': dict(depth=18, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2), out_indices=(0, 1, 2, 3)),
    'r50_caffe': dict(depth=50, style='caffe', out_indices=(0, 1, 2, 3)),
    'r50_deep_stem': dict(depth=50, deep_stem=True, out_indices=(3, )),
    'r18_avg_down': dict(depth=18, avg_down=True, out_indices=(0, 1, 2, 3)),
    'r50_v1d': dict(depth=50, deep_stem=True, avg_down=True, out_indices=(0, 1, 2, 3)),
    'r50_caffe_avg_down_stride_first': dict(depth=50, style='caffe', avg_down=True, strides=(2, 1, 2, 2),
                                            out_indices=(0, 1, 3)),
    'r50_expansion_2': dict(depth=50, expansion=2, out_indices=(0, 2)),
    'r50_frozen_2': dict(depth=50, frozen_stages=2, out_indices=(0, 1, 2, 3)),
    'r50_v1d_frozen_1_norm_eval': dict(depth=50, deep_stem=True, avg_down=True, frozen_stages=1, norm_eval=True,
                                       out_indices=(1, 3)),
    'r34_one_channel_group_norm': dict(depth=34, in_channels=1, norm_cfg=dict(type='GN', num_groups=2),
                                       out_indices=(2, 3)),
    'r101_with_cp': dict(depth=101, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1), with_cp=True,
                         out_indices=(2, )),
}


def _build_pair(kwargs: dict) -> tuple[nn.Module, nn.Module]:
    """mmpose's ResNet and ours from one config dict that differs only in ``type``."""
    cfg = dict(kwargs, **NARROW)
    torch.manual_seed(0)
    reference = MMPOSE_MODELS.build(dict(type='ResNet', **cfg))
    reference.init_weights()
    randomize_norms(reference, seed=1)
    ours = MODELS.build(dict(type='pose_plugins.ResNet', **cfg))
    assert type(ours) is ResNet
    return reference, ours


@pytest.mark.parametrize('kwargs', MMPOSE_CONFIGS.values(), ids=MMPOSE_CONFIGS.keys())
def test_mmpose_config_builds_ours_and_state_dict_outputs_agree(kwargs):
    reference, ours = _build_pair(kwargs)
    assert list(ours.state_dict()) == list(reference.state_dict())  # same names, same order
    ours.load_state_dict(reference.state_dict(), strict=True)
    # frozen_stages: the same parameters stop gradients
    assert {n: p.requires_grad for n, p in ours.named_parameters()} == \
        {n: p.requires_grad for n, p in reference.named_parameters()}

    channels = kwargs.get('in_channels', 3)
    x = image(2, channels, 64, 48)
    for mode in ('eval', 'train'):  # train: batch statistics, frozen stages and norm_eval must agree too
        getattr(reference, mode)()
        getattr(ours, mode)()
        # the norms' mode decides outputs and statistics (a frozen conv's ``training`` flag changes nothing:
        # mmpose sets only the stem's norm to eval, we the whole frozen stem)
        states = {n: m.training for n, m in reference.named_modules() if isinstance(m, _BatchNorm)}
        assert {n: m.training for n, m in ours.named_modules() if isinstance(m, _BatchNorm)} == states
        with torch.no_grad():
            expected, actual = reference(x.clone()), ours(x.clone())
        expected = expected if isinstance(expected, tuple) else (expected, )
        assert isinstance(actual, tuple) and len(actual) == len(expected) == len(kwargs['out_indices'])
        assert ours.out_channels == tuple(t.shape[1] for t in expected)
        for exp, act in zip(expected, actual):
            assert act.shape == exp.shape
            # The same float32 ops (conv, norm, ReLU, pool, add) in the same order on the same inputs: bitwise
            # equal on one machine. atol=1e-6 only leaves room for a different conv algorithm choice (oneDNN)
            # between two modules; outputs are O(1) after the norms.
            torch.testing.assert_close(act, exp, rtol=0, atol=1e-6)
    last = max(kwargs['out_indices'])
    unused = tuple(f'layer{i + 1}.' for i in range(last + 1, 4))
    for name, ref in reference.state_dict().items():
        if not name.startswith(unused):  # we do not run stages after the last output (mmpose does)
            torch.testing.assert_close(ours.state_dict()[name], ref, rtol=0, atol=1e-6, msg=name)


def test_v1d_equals_mmpose_resnetv1d():
    """mmpose's ``ResNetV1d(depth=50)`` is ``ResNet(deep_stem=True, avg_down=True)``."""
    torch.manual_seed(0)
    reference = MMPOSE_MODELS.build(dict(type='ResNetV1d', depth=50, out_indices=(0, 3), **NARROW))
    randomize_norms(reference, seed=1)
    ours = ResNet(depth=50, deep_stem=True, avg_down=True, out_indices=(0, 3), **NARROW)
    ours.load_state_dict(reference.state_dict(), strict=True)
    reference.eval()  # mmpose's BaseBackbone.train returns None, so no chaining
    x = image(1, 3, 64, 64)
    with torch.no_grad():
        for exp, act in zip(reference(x), ours.eval()(x)):
            torch.testing.assert_close(act, exp, rtol=0, atol=1e-6)  # same ops, see above


def test_layout_of_deep_stem_avg_down_caffe_and_dilation():
    model = ResNet(depth=50, deep_stem=True, avg_down=True, style='caffe', strides=(1, 2, 2, 1),
                   dilations=(1, 1, 1, 2), **NARROW)
    assert len(model.stem) == 3 and all(isinstance(m, ConvModule) for m in model.stem)
    assert [m.conv.out_channels for m in model.stem] == [4, 4, 8]
    assert [m.conv.stride for m in model.stem] == [(2, 2), (1, 1), (1, 1)]
    assert not hasattr(model, 'conv1')
    assert 'stem.0.conv.weight' in model.state_dict() and 'stem.2.bn.running_var' in model.state_dict()
    down = model.layer2[0].downsample
    assert [type(m).__name__ for m in down] == ['AvgPool2d', 'Conv2d', 'BatchNorm2d']
    assert down[0].stride == 2 and down[0].ceil_mode and not down[0].count_include_pad
    assert down[1].stride == (1, 1)
    assert [type(m).__name__ for m in model.layer1[0].downsample] == ['Conv2d', 'BatchNorm2d']  # stride 1: no pool
    assert model.layer2[0].conv1.stride == (2, 2) and model.layer2[0].conv2.stride == (1, 1)  # caffe
    assert [model.layer4[b].conv2.dilation for b in range(3)] == [(2, 2)] * 3
    assert model.layer4[0].conv2.padding == (2, 2) and model.layer4[0].conv1.dilation == (1, 1)
    assert model.strides == (1, 2, 2, 1) and model.dilations == (1, 1, 1, 2)
    with torch.no_grad():
        out = model.eval()(image(1, 3, 64, 64))
    assert out[0].shape == (1, 128, 4, 4)  # stride 16: the last stage dilates instead of striding
    basic = ResNet(depth=18, dilations=(1, 1, 2, 2), **NARROW)  # mmpose: BasicBlock dilates conv1 only
    assert basic.layer3[0].conv1.dilation == (2, 2) and basic.layer3[0].conv2.dilation == (1, 1)


def test_default_strides_and_dilations_follow_num_stages():
    model = ResNet(depth=18, num_stages=2, out_indices=(1, ), **NARROW)
    assert model.strides == (1, 2) and model.dilations == (1, 1)
    assert model.stage_channels == (4, 8) and not hasattr(model, 'layer3')
    assert model(image(1, 3, 32, 32))[0].shape == (1, 8, 4, 4)


@pytest.mark.parametrize('kwargs,message', [
    (dict(depth=20), r'depth must be one of \[18, 34, 50, 101, 152\], got 20'),
    (dict(depth=50, num_stages=0), r'num_stages must be an int in \[1, 4\], got 0'),
    (dict(depth=50, num_stages=5), r'num_stages must be an int in \[1, 4\], got 5'),
    (dict(depth=50, strides=(1, ), dilations=(1, 1), num_stages=3),
     r'strides must have num_stages = 3 entries, got 1: \(1,\)'),
    (dict(depth=50, num_stages=2, dilations=(1, 1, 1, 1), out_indices=(1, )),
     r'dilations must have num_stages = 2 entries, got 4'),
    (dict(depth=50, strides=(1, 2, 0, 2)), r'strides must be a sequence of positive ints, got \(1, 2, 0, 2\)'),
    (dict(depth=50, dilations=2), r'dilations must be a sequence of positive ints, got 2'),
    (dict(depth=50, style='tensorflow'), r"style must be one of \('pytorch', 'caffe'\), got 'tensorflow'"),
    (dict(depth=50, num_stages=2, strides=(1, 2), dilations=(1, 1)),
     r'stage indices in \[0, 1\], got 3 in out_indices=\(3,\) \(num_stages=2\)'),
    (dict(depth=18, num_stages=3, frozen_stages=4, out_indices=(2, )), r'frozen_stages must be an int in \[-1, 3\]'),
    (dict(depth=18, expansion=2), r'expansion must be 1 \(or None\) for a BasicBlock ResNet .*got 2'),
    (dict(depth=50, expansion=0), r'expansion must be a positive int or None, got 0'),
    (dict(depth=50, deep_stem=True, stem_channels=1), r'deep_stem needs stem_channels >= 2.*got 1'),
], ids=['depth', 'num_stages_0', 'num_stages_5', 'strides_length', 'dilations_length', 'stride_0', 'dilations_int',
        'style', 'out_index_beyond_num_stages', 'frozen_beyond_num_stages', 'basic_expansion', 'expansion_0',
        'deep_stem_width'])
def test_invalid_mmpose_arguments_raise_naming_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ResNet(**kwargs)


# ------------------------------------------------- mmpose's ResNet unit tests, for ours (narrow, small inputs)


def _bn_states(modules) -> set:
    return {m.training for m in modules if isinstance(m, _BatchNorm)}


def test_norm_eval_after_init_and_with_pretrained_init_cfg():
    model = ResNet(depth=50, norm_eval=True, **NARROW)
    model.init_weights()
    model.train()
    assert _bn_states(model.modules()) == {False}
    model = ResNet(depth=50, norm_eval=True, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
                   **NARROW)
    model.train()  # building and train() need no checkpoint
    assert _bn_states(model.modules()) == {False}


@pytest.mark.parametrize('deep_stem', [False, True], ids=['resnet', 'v1d'])
def test_first_stage_frozen(deep_stem):
    model = ResNet(depth=50, frozen_stages=1, deep_stem=deep_stem, avg_down=deep_stem, **NARROW)
    model.init_weights()
    model.train()
    stem = [model.stem] if deep_stem else [model.conv1, model.norm1]
    if not deep_stem:
        assert not model.norm1.training
    for module in stem + [model.layer1]:
        assert _bn_states(module.modules()) <= {False}
        assert not any(p.requires_grad for p in module.parameters())
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert _bn_states(model.layer2.modules()) == {True}


@pytest.mark.parametrize('depth,out_indices,channels', [
    (18, (0, 1, 2, 3), (32, 64, 128, 256)),
    (50, (0, 1, 2, 3), (128, 256, 512, 1024)),
    (50, (0, 1, 2), (128, 256, 512)),
    (50, (3, ), (1024, )),
], ids=['r18_all', 'r50_all', 'r50_first_three', 'r50_top'])
def test_forward_shapes(depth, out_indices, channels):
    # mmpose's test: 224x224 input and full width; here 64x64 and base_channels=32 (mmpose's "half channel"):
    # stage strides 4, 8, 16, 32 -> 16, 8, 4, 2.
    model = ResNet(depth=depth, out_indices=out_indices, stem_channels=16, base_channels=32)
    model.init_weights()
    model.train()
    feats = model(image(1, 3, 64, 64))
    assert len(feats) == len(out_indices)
    assert [tuple(f.shape) for f in feats] == [(1, c, 64 // 2**(i + 2), 64 // 2**(i + 2))
                                                for c, i in zip(channels, out_indices)]


def test_with_cp_reaches_every_block_and_forward_works():
    model = ResNet(depth=50, out_indices=(0, 1, 2, 3), with_cp=True, **NARROW)
    blocks = [m for m in model.modules() if isinstance(m, (BasicBlock, Bottleneck))]
    assert len(blocks) == 16 and all(b.with_cp for b in blocks)
    model.init_weights()
    model.train()
    feats = model(image(1, 3, 64, 64).requires_grad_())
    assert [f.shape[1] for f in feats] == [16, 32, 64, 128]
    sum(f.sum() for f in feats).backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize('zero_init_residual', [True, False])
def test_zero_init_residual_zeroes_the_last_norm_of_every_block(zero_init_residual):
    model = ResNet(depth=50, out_indices=(0, 1, 2, 3), zero_init_residual=zero_init_residual, **NARROW)
    model.init_weights()
    for block in (m for m in model.modules() if isinstance(m, Bottleneck)):
        last = block.norm3
        zero = not last.weight.any() and not last.bias.any()
        assert zero == zero_init_residual


def test_resnet_v1d_stem_and_shapes():
    model = ResNet(depth=50, deep_stem=True, avg_down=True, out_indices=(0, 1, 2, 3), **NARROW)
    model.init_weights()
    model.train()
    assert len(model.stem) == 3 and all(isinstance(m, ConvModule) for m in model.stem)
    x = image(1, 3, 64, 64)
    assert model.stem(x).shape == (1, 8, 32, 32)
    assert [tuple(f.shape) for f in model(x)] == [(1, 16, 16, 16), (1, 32, 8, 8), (1, 64, 4, 4), (1, 128, 2, 2)]
