"""HRNet: state_dict / output parity with mmpose's HRNet, the w32 preset, table validation, norm_cfg, norm_eval,
frozen_stages, init (default, zero_init_residual, Pretrained), gradients."""
import copy
import re

import pytest
import torch
import torch.nn as nn
from mmpose.models.backbones import HRNet as MMPoseHRNet
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import image, randomize_norms
from pose_plugins.models.backbones.hrnet import HRNet
from pose_plugins.models.layers.basic_block import BasicBlock
from pose_plugins.models.layers.bottleneck import Bottleneck

# Reduced-width table: 8/16/32/64 channels; stage 2 has two blocks per branch, stage 3 two modules.
TINY = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(8, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(2, 2), num_channels=(8, 16)),
    stage3=dict(num_modules=2, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(8, 16, 32)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                num_channels=(8, 16, 32, 64)))


def tiny(**changes) -> dict:
    """A deep copy of TINY with ``changes`` = {'stage3': {'num_channels': ...}, 'upsample': ...} merged in."""
    table = copy.deepcopy(TINY)
    for key, value in changes.items():
        if key.startswith('stage') and key in table:
            table[key].update(value)
        else:
            table[key] = value
    return table


PARITY_CASES = {
    'single_output': (tiny(), None),
    'multiscale': (tiny(stage4=dict(multiscale_output=True)), None),
    # stage 2 of Bottlenecks (branch widths x4) and a width change of the last existing branch in transition2
    'bottleneck_stage_and_width_change': (tiny(stage2=dict(block='BOTTLENECK'),
                                               stage3=dict(num_channels=(32, 24, 32)),
                                               stage4=dict(num_channels=(32, 24, 32, 64),
                                                           multiscale_output=True)), None),
    'bilinear_upsample': (tiny(upsample=dict(mode='bilinear', align_corners=False),
                               stage4=dict(multiscale_output=True)), None),
    'group_norm': (tiny(stage4=dict(multiscale_output=True)), dict(type='GN', num_groups=4)),
}


@pytest.mark.parametrize('extra,norm_cfg', PARITY_CASES.values(), ids=PARITY_CASES.keys())
def test_mmpose_state_dict_loads_strict_and_outputs_match(extra, norm_cfg):
    torch.manual_seed(0)
    kwargs = {} if norm_cfg is None else dict(norm_cfg=norm_cfg)
    reference = MMPoseHRNet(extra=copy.deepcopy(extra), **kwargs)
    randomize_norms(reference, seed=1)
    ours = HRNet(extra=extra, **kwargs)
    assert ours.state_dict().keys() == reference.state_dict().keys()
    ours.load_state_dict(reference.state_dict(), strict=True)

    x = image(2, 3, 64, 64)
    for mode in ('eval', 'train'):  # train: batch statistics (and running-stat updates) must agree too
        getattr(reference, mode)()
        getattr(ours, mode)()
        expected, actual = reference(x.clone()), ours(x.clone())
        assert isinstance(actual, tuple) and len(actual) == len(expected)
        for exp, act in zip(expected, actual):
            assert act.shape == exp.shape
            torch.testing.assert_close(act, exp, rtol=0, atol=1e-5)
    for name, buf in reference.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[name], buf, rtol=0, atol=1e-5, msg=name)


def test_w32_preset_matches_mmpose_w32_keys_shapes_and_parameter_count():
    extra = {key: dict(value) for key, value in HRNet.arch_settings['w32'].items()}
    reference = MMPoseHRNet(extra=extra)
    ours = HRNet(arch='w32')
    ref_shapes = {k: v.shape for k, v in reference.state_dict().items()}
    our_shapes = {k: v.shape for k, v in ours.state_dict().items()}
    assert our_shapes == ref_shapes
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in reference.parameters())
    assert count == 28_535_552  # HRNet-W32 backbone; + the 1x1 32->17 head conv gives the published 28.5M
    assert ours.out_channels == (32, )
    assert HRNet().state_dict().keys() == ours.state_dict().keys()  # w32 is the default


def test_w48_preset_is_the_w48_table():
    table = HRNet.arch_settings['w48']
    assert [table[f'stage{s}']['num_channels'] for s in (2, 3, 4)] == [(48, 96), (48, 96, 192), (48, 96, 192, 384)]
    assert [table[f'stage{s}']['num_modules'] for s in (1, 2, 3, 4)] == [1, 1, 4, 3]


@pytest.mark.parametrize('multiscale', [False, True], ids=['single', 'multiscale'])
def test_output_shapes_also_for_sizes_not_multiple_of_32(multiscale):
    torch.manual_seed(0)
    model = HRNet(extra=TINY, multiscale_output=multiscale).eval()
    with torch.no_grad():
        out = model(image(1, 3, 64, 48))
        odd = model(image(1, 3, 50, 38))  # 13x10 -> 7x5 -> 4x3 -> 2x2 (stride-2 convs round up)
    expected = [(1, 8, 16, 12), (1, 16, 8, 6), (1, 32, 4, 3), (1, 64, 2, 2)]
    expected_odd = [(1, 8, 13, 10), (1, 16, 7, 5), (1, 32, 4, 3), (1, 64, 2, 2)]
    n = 4 if multiscale else 1
    assert [tuple(t.shape) for t in out] == expected[:n]
    assert [tuple(t.shape) for t in odd] == expected_odd[:n]
    assert model.out_channels == (8, 16, 32, 64)[:n]


def test_three_stage_table():
    torch.manual_seed(0)
    extra = {k: v for k, v in TINY.items() if k != 'stage4'}
    model = HRNet(extra=extra, multiscale_output=True).eval()
    assert not hasattr(model, 'stage4') and not hasattr(model, 'transition3')
    with torch.no_grad():
        out = model(image(1, 3, 32, 32))
    assert [tuple(t.shape) for t in out] == [(1, 8, 8, 8), (1, 16, 4, 4), (1, 32, 2, 2)]


def test_extra_is_not_modified():
    extra = tiny(stage4=dict(multiscale_output=True))
    before = copy.deepcopy(extra)
    HRNet(extra=extra)
    assert extra == before


def test_registered_in_pose_plugins_scope():
    from pose_plugins.registry import MODELS
    model = MODELS.build(dict(type='pose_plugins.HRNet', extra=TINY))
    assert type(model) is HRNet


BAD_TABLES = {
    'num_channels_length': (tiny(stage3=dict(num_channels=(8, 16))), ValueError,
                            r"stage3'\]\['num_channels'\] has 2 entries \(8, 16\) but .*\['num_branches'\] is 3"),
    'num_blocks_length': (tiny(stage2=dict(num_blocks=(1, ))), ValueError, r"stage2'\]\['num_blocks'\] has 1"),
    'unknown_block': (tiny(stage2=dict(block='RESNEXT')), ValueError, r"stage2'\]\['block'\].*'RESNEXT'"),
    'missing_field': ({**TINY, 'stage4': {k: v for k, v in TINY['stage4'].items() if k != 'num_modules'}},
                      ValueError, r"stage4'\] misses \['num_modules'\]"),
    'misspelled_field': (tiny(stage2=dict(num_channel=(8, 16))), ValueError,
                         r"stage2'\] has unknown keys \['num_channel'\]"),
    'missing_stage': ({k: v for k, v in TINY.items() if k != 'stage3'}, ValueError, r'consecutive stages.*stage4'),
    'fewer_branches': (tiny(stage4=dict(num_branches=2, num_blocks=(1, 1), num_channels=(8, 16))), ValueError,
                       r"stage4'\]\['num_branches'\] is 2, fewer than the 3 branches of stage3"),
    'multiscale_not_last_stage': (tiny(stage2=dict(multiscale_output=False)), ValueError,
                                  r"stage2'\] has unknown keys \['multiscale_output'\]"),
    'zero_channels': (tiny(stage3=dict(num_channels=(8, 0, 32))), ValueError,
                      r"stage3'\]\['num_channels'\] must be a list/tuple of positive ints, got \(8, 0, 32\)"),
    'stage1_two_modules': (tiny(stage1=dict(num_modules=2)), ValueError, r"stage1'\] must have num_branches=1"),
    'unknown_top_level_key': (tiny(stage5x=dict()), ValueError, r"unknown keys \['stage5x'\]"),
    'bad_upsample_mode': (tiny(upsample=dict(mode='area')), ValueError, r"upsample_cfg\['mode'\].*'area'"),
}


@pytest.mark.parametrize('extra,error,message', BAD_TABLES.values(), ids=BAD_TABLES.keys())
def test_invalid_stage_table_raises_naming_stage_and_field(extra, error, message):
    with pytest.raises(error, match=message):
        HRNet(extra=extra)


@pytest.mark.parametrize('kwargs,message', [
    (dict(arch='w64'), r"arch must be one of \['w32', 'w48'\], got 'w64'"),
    (dict(arch='w32', extra=TINY), r"either arch \('w32'\) or extra"),
    (dict(extra=TINY, frozen_stages=5), r'frozen_stages must be an int in \[-1, 4\], got 5'),
    (dict(extra=TINY, in_channels=0), r'in_channels must be a positive int, got 0'),
    (dict(extra=tiny(stage4=dict(multiscale_output=True)), multiscale_output=False),
     re.escape("multiscale_output=False contradicts extra['stage4']['multiscale_output']=True")),
], ids=['unknown_arch', 'arch_and_extra', 'frozen_stages_range', 'in_channels', 'multiscale_conflict'])
def test_invalid_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HRNet(**kwargs)


def _norms(model: nn.Module) -> list[nn.Module]:
    norm_types = (_BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d)
    return [m for m in model.modules() if isinstance(m, norm_types)]


def test_norm_cfg_reaches_every_norm_layer():
    torch.manual_seed(0)
    extra = tiny(stage4=dict(multiscale_output=True))
    model = HRNet(extra=extra, norm_cfg=dict(type='GN', num_groups=4))
    num_convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    norms = _norms(model)
    assert len(norms) == num_convs  # every conv is followed by exactly one norm layer
    assert all(type(m) is nn.GroupNorm and m.num_groups == 4 for m in norms)
    assert 'gn1.weight' in model.state_dict() and 'layer1.0.gn3.weight' in model.state_dict()
    out = model(image(2, 3, 32, 32))
    assert all(torch.isfinite(t).all() for t in out)

    sync = HRNet(extra=extra, norm_cfg=dict(type='SyncBN'))
    assert len(_norms(sync)) == num_convs
    assert all(isinstance(m, nn.SyncBatchNorm) for m in _norms(sync))  # mmengine's subclass


def test_norm_eval_keeps_batchnorm_in_eval_mode_and_stats_frozen():
    torch.manual_seed(0)
    model = HRNet(extra=TINY, norm_eval=True)
    model.train()
    assert model.training and model.stage2.training
    assert all(not m.training for m in _norms(model))
    before = {k: v.clone() for k, v in model.state_dict().items() if 'running' in k}
    model(image(2, 3, 32, 32))
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


def test_frozen_stages_freezes_stem_stage1_stage2_and_their_transitions():
    torch.manual_seed(0)
    model = HRNet(extra=TINY, frozen_stages=2)
    model.train()
    frozen = ('conv1.', 'bn1.', 'conv2.', 'bn2.', 'layer1.', 'transition1.', 'stage2.', 'transition2.')
    for name, param in model.named_parameters():
        assert param.requires_grad == (not name.startswith(frozen)), name
    for name, module in model.named_modules():
        if isinstance(module, _BatchNorm):
            assert module.training == (not (name + '.').startswith(frozen)), name


def test_default_init_kaiming_convs_constant_norms():
    torch.manual_seed(0)
    model = HRNet(extra=TINY)
    randomize_norms(model, seed=3)
    model.init_weights()
    for m in _norms(model):
        assert torch.equal(m.weight, torch.ones_like(m.weight)) and torch.equal(m.bias, torch.zeros_like(m.bias))
    # Kaiming normal, fan_out, ReLU gain: std = sqrt(2 / (out_channels * k * k))
    conv = model.stage4[0].branches[0][0].conv1  # 8 -> 8, 3x3: fan_out 72
    assert conv.weight.std().item() == pytest.approx((2 / 72) ** 0.5, rel=0.25)


def test_zero_init_residual_zeroes_last_norm_of_every_block():
    torch.manual_seed(0)
    model = HRNet(extra=TINY, zero_init_residual=True)
    model.init_weights()
    blocks = [m for m in model.modules() if isinstance(m, (BasicBlock, Bottleneck))]
    assert len(blocks) == 1 + 4 + 2 * 3 + 4
    for block in blocks:
        last = block.norm3 if isinstance(block, Bottleneck) else block.norm2
        assert not last.weight.any() and not last.bias.any()
        assert block.norm1.weight.all()


def test_pretrained_init_cfg_loads_checkpoint(tmp_path):
    torch.manual_seed(0)
    reference = MMPoseHRNet(extra=copy.deepcopy(TINY))
    randomize_norms(reference, seed=2)
    path = tmp_path / 'hrnet_tiny.pth'
    torch.save({'state_dict': reference.state_dict()}, path)

    model = HRNet(extra=TINY, zero_init_residual=True, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    for name, tensor in reference.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name  # incl. zero_init_residual not applied


def test_gradient_reaches_every_parameter_and_no_nan():
    torch.manual_seed(0)
    model = HRNet(extra=tiny(stage4=dict(multiscale_output=True)))
    model.init_weights()
    model.train()
    out = model(image(2, 3, 32, 32))
    sum(t.square().mean() for t in out).backward()
    assert all(torch.isfinite(t).all() for t in out)
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_with_cp_gives_same_outputs_and_gradients():
    torch.manual_seed(0)
    plain = HRNet(extra=tiny(stage4=dict(multiscale_output=True)))
    ckpt = HRNet(extra=tiny(stage4=dict(multiscale_output=True)), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = image(2, 3, 32, 32)
    for model in (plain, ckpt):
        model.train()
        sum(t.sum() for t in model(x)).backward()
    for (name, p), q in zip(plain.named_parameters(), ckpt.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-5, msg=name)
