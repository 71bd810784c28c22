"""ResNet: state_dict / output parity with mmpose's ResNet, torchvision's parameter layout and counts, argument
errors, out_indices, norm_cfg, norm_eval, frozen_stages, init (default, zero_init_residual, Pretrained), with_cp."""
import re

import pytest
import torch
import torch.nn as nn
from mmpose.models.backbones import ResNet as MMPoseResNet
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import image, randomize_norms
from pose_plugins.models.backbones.resnet import ResNet
from pose_plugins.models.layers.basic_block import BasicBlock
from pose_plugins.models.layers.bottleneck import Bottleneck

BN_KEYS = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
# Small-width ResNet-18 (16/32/64/128 channels) for the tests that do not need the published widths.
TINY = dict(depth=18, stem_channels=8, base_channels=16)


PARITY_CASES = {
    'r18_last_stage': (dict(depth=18), (3, )),
    'r18_all_stages': (dict(depth=18), (0, 1, 2, 3)),
    'r18_stages_1_2': (dict(depth=18), (1, 2)),
    'r50_all_stages': (dict(depth=50), (0, 1, 2, 3)),
    'r50_stage_0': (dict(depth=50), (0, )),
    'r50_narrow_group_norm': (dict(depth=50, stem_channels=8, base_channels=8,
                                   norm_cfg=dict(type='GN', num_groups=4)), (0, 2, 3)),
}


@pytest.mark.parametrize('kwargs,out_indices', PARITY_CASES.values(), ids=PARITY_CASES.keys())
def test_mmpose_state_dict_loads_strict_and_outputs_match(kwargs, out_indices):
    torch.manual_seed(0)
    reference = MMPoseResNet(out_indices=out_indices, **kwargs)
    randomize_norms(reference, seed=1)
    ours = ResNet(out_indices=out_indices, **kwargs)
    assert list(ours.state_dict()) == list(reference.state_dict())  # same names, same order
    ours.load_state_dict(reference.state_dict(), strict=True)

    x = image(2, 3, 64, 48)
    for mode in ('eval', 'train'):  # train: batch statistics (and running-stat updates) must agree too
        getattr(reference, mode)()
        getattr(ours, mode)()
        with torch.no_grad():
            expected, actual = reference(x.clone()), ours(x.clone())
        assert isinstance(actual, tuple) and len(actual) == len(expected) == len(out_indices)
        for exp, act in zip(expected, actual):
            assert act.shape == exp.shape
            torch.testing.assert_close(act, exp, rtol=0, atol=1e-5)
    unused = tuple(f'layer{i + 1}.' for i in range(max(out_indices) + 1, 4))
    for name, ref in reference.state_dict().items():
        if name.startswith(unused):
            continue  # we do not run stages after the last output; mmpose runs them and updates their BN stats
        torch.testing.assert_close(ours.state_dict()[name], ref, rtol=0, atol=1e-5, msg=name)


def test_output_shapes_channels_and_stage_order():
    torch.manual_seed(0)
    model = ResNet(depth=50, out_indices=(3, 0, 1)).eval()  # any order: outputs come in stage order
    assert model.out_indices == (0, 1, 3)
    assert model.stage_channels == (256, 512, 1024, 2048)
    assert model.out_channels == (256, 512, 2048)
    with torch.no_grad():
        out = model(image(1, 3, 64, 48))
        odd = model(image(1, 3, 50, 38))  # 25x19 -> 13x10 (max-pool) -> 7x5 -> 4x3 -> 2x2
    assert [tuple(t.shape) for t in out] == [(1, 256, 16, 12), (1, 512, 8, 6), (1, 2048, 2, 2)]
    assert [tuple(t.shape) for t in odd] == [(1, 256, 13, 10), (1, 512, 7, 5), (1, 2048, 2, 2)]
    assert ResNet(depth=34).out_channels == (512, )
    assert ResNet(**TINY, out_indices=(0, 1, 2, 3)).out_channels == (16, 32, 64, 128)


def torchvision_resnet_keys(block_counts: tuple, bottleneck: bool) -> set:
    """state_dict keys of torchvision's ``resnet*`` (torchvision/models/resnet.py), written out from its layout:
    ``conv1``/``bn1`` stem, ``layer{1..4}.{b}.conv{j}``/``bn{j}`` (j = 1..3 for Bottleneck, 1..2 for
    BasicBlock), ``layer{l}.0.downsample.0`` (conv) / ``.1`` (BN) where the shape changes, then ``fc``."""
    keys = {'conv1.weight'} | {f'bn1.{k}' for k in BN_KEYS}
    for layer, count in enumerate(block_counts, start=1):
        for b in range(count):
            prefix = f'layer{layer}.{b}.'
            for j in range(1, (3 if bottleneck else 2) + 1):
                keys |= {f'{prefix}conv{j}.weight'} | {f'{prefix}bn{j}.{k}' for k in BN_KEYS}
            if b == 0 and (bottleneck or layer > 1):
                keys |= {f'{prefix}downsample.0.weight'} | {f'{prefix}downsample.1.{k}' for k in BN_KEYS}
    return keys | {'fc.weight', 'fc.bias'}


# torchvision's block counts and published parameter counts (torchvision docs, "num_params"), minus fc
# (512 * 1000 + 1000 for BasicBlock nets, 2048 * 1000 + 1000 for Bottleneck nets).
TORCHVISION = {
    18: ((2, 2, 2, 2), False, 11_689_512 - 513_000),
    34: ((3, 4, 6, 3), False, 21_797_672 - 513_000),
    50: ((3, 4, 6, 3), True, 25_557_032 - 2_049_000),
    101: ((3, 4, 23, 3), True, 44_549_160 - 2_049_000),
    152: ((3, 8, 36, 3), True, 60_192_808 - 2_049_000),
}


@pytest.mark.parametrize('depth', [18, 50, 101])
def test_key_set_is_torchvision_layout_minus_fc(depth):
    counts, bottleneck, _ = TORCHVISION[depth]
    keys = set(ResNet(depth=depth).state_dict())
    expected = {k for k in torchvision_resnet_keys(counts, bottleneck) if not k.startswith('fc.')}
    assert keys == expected, (sorted(keys - expected)[:5], sorted(expected - keys)[:5])


def test_resnet50_shapes_and_strides_are_torchvision_layout():
    model = ResNet(depth=50)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert {
        'conv1.weight': (64, 3, 7, 7),
        'bn1.running_var': (64, ),
        'bn1.num_batches_tracked': (),
        'layer1.0.conv1.weight': (64, 64, 1, 1),
        'layer1.0.conv2.weight': (64, 64, 3, 3),
        'layer1.0.conv3.weight': (256, 64, 1, 1),
        'layer1.0.downsample.0.weight': (256, 64, 1, 1),
        'layer2.0.conv1.weight': (128, 256, 1, 1),
        'layer2.0.downsample.0.weight': (512, 256, 1, 1),
        'layer2.3.conv2.weight': (128, 128, 3, 3),
        'layer3.5.conv3.weight': (1024, 256, 1, 1),
        'layer4.0.downsample.0.weight': (2048, 1024, 1, 1),
        'layer4.0.downsample.1.weight': (2048, ),
        'layer4.2.bn3.running_mean': (2048, ),
    }.items() <= shapes.items()
    # torchvision's "v1.5": the stride-2 conv of a downsampling Bottleneck is the 3x3 one
    assert model.layer2[0].conv1.stride == (1, 1) and model.layer2[0].conv2.stride == (2, 2)
    assert model.layer2[0].downsample[0].stride == (2, 2)
    assert model.conv1.stride == (2, 2) and model.conv1.padding == (3, 3) and model.conv1.bias is None
    assert (model.maxpool.kernel_size, model.maxpool.stride, model.maxpool.padding) == (3, 2, 1)


def test_torchvision_style_state_dict_without_fc_loads_strict():
    counts, bottleneck, _ = TORCHVISION[18]
    model = ResNet(depth=18)
    state = {k: torch.zeros(()) if k.endswith('num_batches_tracked') else torch.rand(v.shape)
             for k, v in model.state_dict().items()}
    model.load_state_dict(state, strict=True)
    with_fc = dict(state, **{'fc.weight': torch.rand(1000, 512), 'fc.bias': torch.rand(1000)})
    assert set(with_fc) == torchvision_resnet_keys(counts, bottleneck)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\).*fc\.weight'):
        model.load_state_dict(with_fc, strict=True)


@pytest.mark.parametrize('depth', sorted(TORCHVISION))
def test_parameter_count_equals_mmpose_and_torchvision_minus_fc(depth):
    ours = sum(p.numel() for p in ResNet(depth=depth).parameters())
    reference = sum(p.numel() for p in MMPoseResNet(depth=depth).parameters())
    assert ours == reference == TORCHVISION[depth][2]


def test_registered_in_pose_plugins_scope():
    from pose_plugins.registry import MODELS
    model = MODELS.build(dict(type='pose_plugins.ResNet', **TINY))
    assert type(model) is ResNet


@pytest.mark.parametrize('kwargs,message', [
    (dict(depth=42), r'depth must be one of \[18, 34, 50, 101, 152\], got 42'),
    (dict(depth='50'), r"depth must be one of .*, got '50'"),
    (dict(depth=18, out_indices=(4, )), r'stage indices in \[0, 3\], got 4 in out_indices=\(4,\)'),
    (dict(depth=18, out_indices=(0, -1)), r'got -1 in out_indices=\(0, -1\)'),
    (dict(depth=18, out_indices=()), r'non-empty sequence .*got \(\)'),
    (dict(depth=18, out_indices=3), r'non-empty sequence .*got 3'),
    (dict(depth=18, out_indices=(1, 1)), r'repeated stages: \(1, 1\)'),
    (dict(depth=18, frozen_stages=5), r'frozen_stages must be an int in \[-1, 4\], got 5'),
    (dict(depth=18, base_channels=0), r'base_channels must be a positive int, got 0'),
    (dict(depth=18, in_channels=True), r'in_channels must be a positive int, got True'),
], ids=['depth', 'depth_str', 'out_index_4', 'out_index_negative', 'out_indices_empty', 'out_indices_int',
        'out_indices_repeated', 'frozen_stages', 'base_channels', 'in_channels_bool'])
def test_invalid_arguments_raise_naming_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ResNet(**kwargs)


def test_constructor_is_keyword_only():
    with pytest.raises(TypeError):
        ResNet(18)  # noqa


def _norms(model: nn.Module) -> list:
    return [m for m in model.modules() if isinstance(m, (_BatchNorm, nn.GroupNorm))]


def test_norm_cfg_reaches_every_norm_layer_and_is_not_modified():
    torch.manual_seed(0)
    norm_cfg = dict(type='GN', num_groups=4)
    model = ResNet(**TINY, norm_cfg=norm_cfg, out_indices=(0, 1, 2, 3))
    assert norm_cfg == dict(type='GN', num_groups=4)
    num_convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    norms = _norms(model)
    assert len(norms) == num_convs == 1 + 8 * 2 + 4  # stem, 8 BasicBlocks, 4 projections (stem 8 -> 16 too)
    assert all(type(m) is nn.GroupNorm and m.num_groups == 4 for m in norms)
    assert 'gn1.weight' in model.state_dict() and 'layer2.0.gn2.weight' in model.state_dict()
    assert all(torch.isfinite(t).all() for t in model(image(2, 3, 32, 32)))

    sync = ResNet(**TINY, norm_cfg=dict(type='SyncBN'))
    assert len(_norms(sync)) == num_convs and all(isinstance(m, nn.SyncBatchNorm) for m in _norms(sync))


def test_norm_eval_keeps_batchnorm_in_eval_mode_and_stats_frozen():
    torch.manual_seed(0)
    model = ResNet(**TINY, norm_eval=True)
    model.train()
    assert model.training and model.layer3.training
    assert all(not m.training for m in _norms(model))
    before = {k: v.clone() for k, v in model.state_dict().items() if 'running' in k}
    model(image(2, 3, 32, 32))
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())
    model.eval().train()  # re-entering train mode keeps them frozen
    assert all(not m.training for m in _norms(model))


@pytest.mark.parametrize('frozen_stages', [0, 2, 4])
def test_frozen_stages_freeze_stem_and_first_stages(frozen_stages):
    torch.manual_seed(0)
    model = ResNet(**TINY, frozen_stages=frozen_stages)
    model.train()
    frozen = ('conv1.', 'bn1.') + tuple(f'layer{i}.' for i in range(1, frozen_stages + 1))
    for name, param in model.named_parameters():
        assert param.requires_grad == (not name.startswith(frozen)), name
    for name, module in model.named_modules():
        if isinstance(module, _BatchNorm):
            assert module.training == (not (name + '.').startswith(frozen)), name
    before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(frozen)}
    model(image(2, 3, 32, 32))
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())  # frozen BN stats unchanged


def test_default_init_kaiming_convs_constant_norms_and_zero_init_residual():
    torch.manual_seed(0)
    model = ResNet(depth=18, base_channels=32, stem_channels=32)
    randomize_norms(model, seed=3)
    model.init_weights()
    blocks = [m for m in model.modules() if isinstance(m, BasicBlock)]
    assert len(blocks) == 8
    last_norms = {id(b.norm2) for b in blocks}
    for m in _norms(model):
        expected = 0.0 if id(m) in last_norms else 1.0  # zero_init_residual=True by default, as mmpose
        assert torch.equal(m.weight, torch.full_like(m.weight, expected)) and not m.bias.any()
    # Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (out_channels * k * k))
    conv = model.layer4[1].conv1  # 256 -> 256, 3x3: fan_out 2304
    assert conv.weight.std().item() == pytest.approx((2 / 2304)**0.5, rel=0.05)

    plain = ResNet(depth=50, base_channels=8, stem_channels=8, zero_init_residual=False)
    plain.init_weights()
    assert all(torch.equal(m.weight, torch.ones_like(m.weight)) for m in _norms(plain))
    zeroed = ResNet(depth=50, base_channels=8, stem_channels=8)
    zeroed.init_weights()
    for block in (m for m in zeroed.modules() if isinstance(m, Bottleneck)):
        assert not block.norm3.weight.any() and block.norm1.weight.all() and block.norm2.weight.all()


def test_pretrained_init_cfg_loads_torchvision_style_checkpoint_with_fc(tmp_path):
    torch.manual_seed(0)
    reference = MMPoseResNet(**TINY)
    randomize_norms(reference, seed=2)
    state = dict(reference.state_dict(), **{'fc.weight': torch.rand(1000, 128), 'fc.bias': torch.rand(1000)})
    path = tmp_path / 'resnet18_tiny.pth'
    torch.save(state, path)  # torchvision's files are a bare state dict, fc included

    model = ResNet(**TINY, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    for name, tensor in reference.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name  # incl. zero_init_residual not applied


def test_torchvision_url_without_torchvision_names_a_local_path():
    model = ResNet(**TINY, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))
    with pytest.raises(RuntimeError, match=re.escape("checkpoint 'torchvision://resnet18' needs torchvision")):
        model.init_weights()


def test_gradient_reaches_every_parameter_of_the_used_stages():
    torch.manual_seed(0)
    model = ResNet(depth=50, stem_channels=8, base_channels=8, out_indices=(0, 1, 2, 3), zero_init_residual=False)
    model.init_weights()
    model.train()
    out = model(image(2, 3, 32, 32))
    sum(t.square().mean() for t in out).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name

    early = ResNet(**TINY, out_indices=(1, ))  # stages after the last output are not run
    early(image(2, 3, 32, 32))[0].sum().backward()
    assert all(p.grad is None for p in early.layer3.parameters())
    assert all(p.grad is not None for p in early.layer2.parameters())


def test_with_cp_gives_same_outputs_and_gradients():
    torch.manual_seed(0)
    plain = ResNet(depth=50, stem_channels=8, base_channels=8, out_indices=(1, 3))
    ckpt = ResNet(depth=50, stem_channels=8, base_channels=8, out_indices=(1, 3), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = image(2, 3, 32, 32)
    outs = []
    for model in (plain, ckpt):
        model.train()
        out = model(x)
        sum(t.sum() for t in out).backward()
        outs.append(out)
    for a, b in zip(*outs):
        torch.testing.assert_close(b, a)
    for (name, p), q in zip(plain.named_parameters(), ckpt.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-5, msg=name)
