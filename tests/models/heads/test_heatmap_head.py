"""HeatmapHead (and the DeconvStack it uses): parity with mmpose's HeatmapHead, checkpoint loading, errors."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData
from mmpose.codecs import MSRAHeatmap as MMPoseMSRAHeatmap
from mmpose.models.heads import HeatmapHead as MMPoseHeatmapHead
from mmpose.models.losses import KeypointMSELoss as MMPoseKeypointMSELoss
from mmpose.registry import MODELS as MMPOSE_MODELS
from mmpose.structures import PoseDataSample
from torch import nn

from conftest import randomize_state
from pose_plugins.models.heads.heatmap_head import HeatmapHead
from pose_plugins.models.layers.deconv_stack import DeconvStack
from pose_plugins.models.losses.keypoint_mse_loss import KeypointMSELoss
from pose_plugins.models.losses.keypoint_ohkm_mse_loss import KeypointOHKMMSELoss

B, C, K = 2, 8, 4
FLIP_INDICES = [1, 0, 3, 2]
FEAT_H, FEAT_W = 4, 3

# Named head configurations shared by mmpose's HeatmapHead and ours: (kwargs, upsampling factor).
CONFIGS = {
    'simplebaseline-2deconv': (dict(deconv_out_channels=(16, 16), deconv_kernel_sizes=(4, 4)), 4),
    'deconv-k3-k2-and-convs': (dict(deconv_out_channels=(16, 12), deconv_kernel_sizes=(3, 2),
                                    conv_out_channels=(10, 6), conv_kernel_sizes=(3, 1)), 4),
    'hrnet-no-deconv': (dict(deconv_out_channels=None), 1),
    'hrnetv2-conv-only': (dict(deconv_out_channels=None, conv_out_channels=(12, ), conv_kernel_sizes=(1, )), 1),
    'vitpose-simple-final3x3': (dict(deconv_out_channels=[], deconv_kernel_sizes=[],
                                     final_layer=dict(kernel_size=3, padding=1)), 1),
}


def _decoder(scale: int) -> dict:
    heatmap_size = (FEAT_W * scale, FEAT_H * scale)
    return dict(type='MSRAHeatmap', input_size=(heatmap_size[0] * 4, heatmap_size[1] * 4),
                heatmap_size=heatmap_size, sigma=2)


def _build_pair(name: str, **extra):
    """mmpose's head and ours with the same config; mmpose's randomized, then loaded into ours strict=True.

    Built under ``default_scope='mmpose'`` as in a real config, so ``type='MSRAHeatmap'`` is mmpose's codec.
    """
    kwargs, scale = CONFIGS[name]
    ours_extra = dict(extra)
    theirs_extra = {k: v for k, v in extra.items() if k != 'ours_loss'}
    if 'ours_loss' in ours_extra:
        ours_extra['loss'] = ours_extra.pop('ours_loss')
    with DefaultScope.overwrite_default_scope('mmpose'):
        theirs = MMPoseHeatmapHead(in_channels=C, out_channels=K, decoder=_decoder(scale), **kwargs, **theirs_extra)
        ours = HeatmapHead(in_channels=C, out_channels=K, decoder=_decoder(scale), **kwargs, **ours_extra)
    randomize_state(theirs, 0, std=0.5)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs.eval(), ours.eval(), scale


def _feats(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(B, C, FEAT_H * 2, FEAT_W * 2, generator=gen), torch.randn(B, C, FEAT_H, FEAT_W, generator=gen))


def _data_samples(scale: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for i in range(B):
        sample = PoseDataSample(metainfo=dict(flip_indices=FLIP_INDICES))
        sample.gt_fields = PixelData(heatmaps=torch.rand(K, FEAT_H * scale, FEAT_W * scale, generator=gen))
        weights = torch.ones(1, K)
        weights[0, i] = 0.0  # one unlabelled keypoint per sample
        sample.gt_instance_labels = InstanceData(keypoint_weights=weights)
        samples.append(sample)
    return samples


# ------------------------------------------------------------------------------------------------------ parity


@pytest.mark.parametrize('name', list(CONFIGS))
def test_state_dict_keys_match_mmpose(name):
    theirs, ours, _ = _build_pair(name)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours.decoder) is MMPoseMSRAHeatmap
    assert type(ours.loss_module) is KeypointMSELoss and ours.loss_module.use_target_weight


@pytest.mark.parametrize('train', [False, True], ids=['eval', 'train'])
@pytest.mark.parametrize('name', list(CONFIGS))
def test_forward_matches_mmpose(name, train):
    theirs, ours, scale = _build_pair(name)
    theirs.train(train)
    ours.train(train)
    feats = _feats()
    actual = ours(feats)
    assert actual.shape == (B, K, FEAT_H * scale, FEAT_W * scale)
    torch.testing.assert_close(actual, theirs(feats), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('test_cfg', [
    pytest.param(dict(), id='no-flip'),
    pytest.param(dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True, output_heatmaps=True), id='flip-shift'),
    pytest.param(dict(flip_test=True, shift_heatmap=False), id='flip-noshift'),
])
@pytest.mark.parametrize('name', ['simplebaseline-2deconv', 'hrnet-no-deconv'])
def test_predict_matches_mmpose(name, test_cfg):
    theirs, ours, scale = _build_pair(name)
    samples = _data_samples(scale)
    feats = _feats(1)
    if test_cfg.get('flip_test'):
        feats = [feats, tuple(f.flip(-1) for f in feats)]
    with torch.no_grad():
        expected = theirs.predict(feats, samples, test_cfg=dict(test_cfg))
        actual = ours.predict(feats, samples, test_cfg=dict(test_cfg))
    if test_cfg.get('output_heatmaps'):
        (expected, expected_maps), (actual, actual_maps) = expected, actual
        assert len(actual_maps) == B
        for a, e in zip(actual_maps, expected_maps):
            assert a.heatmaps.shape == (K, FEAT_H * scale, FEAT_W * scale)
            torch.testing.assert_close(a.heatmaps, e.heatmaps, atol=1e-5, rtol=1e-5)
    assert len(actual) == B
    for a, e in zip(actual, expected):
        assert isinstance(a, InstanceData)
        assert a.keypoints.shape == (1, K, 2) and a.keypoint_scores.shape == (1, K)
        np.testing.assert_allclose(a.keypoints, e.keypoints, atol=1e-4)
        np.testing.assert_allclose(a.keypoint_scores, e.keypoint_scores, atol=1e-5)


def test_flip_test_uses_flip_indices():
    """Averaging with the flipped pass really swaps left/right channels: the prediction differs from no flip."""
    _, ours, scale = _build_pair('hrnet-no-deconv')
    samples = _data_samples(scale)
    feats = _feats(2)
    flipped = tuple(f.flip(-1) for f in feats)
    with torch.no_grad():
        _, maps = ours.predict([feats, flipped], samples, test_cfg=dict(flip_test=True, output_heatmaps=True))
        manual = 0.5 * (ours(feats) + ours(flipped).flip(-1)[:, FLIP_INDICES])
    torch.testing.assert_close(torch.stack([m.heatmaps for m in maps]), manual, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize('loss_name', ['mse', 'ohkm'])
@pytest.mark.parametrize('name', ['simplebaseline-2deconv', 'deconv-k3-k2-and-convs', 'hrnet-no-deconv'])
def test_loss_matches_mmpose(name, loss_name):
    if loss_name == 'mse':
        extra = {}
    else:
        extra = dict(loss=dict(type='KeypointOHKMMSELoss', use_target_weight=True, topk=2),
                     ours_loss=dict(type='pose_plugins.KeypointOHKMMSELoss', use_target_weight=True, topk=2))
    theirs, ours, scale = _build_pair(name, **extra)
    if loss_name == 'ohkm':
        assert type(ours.loss_module) is KeypointOHKMMSELoss
    theirs.train()
    ours.train()
    samples = _data_samples(scale, seed=3)
    feats = _feats(3)
    expected = theirs.loss(feats, samples)
    actual = ours.loss(feats, samples)
    assert set(actual) == {'loss_kpt', 'acc_pose'}
    torch.testing.assert_close(actual['loss_kpt'], expected['loss_kpt'], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(actual['acc_pose'], expected['acc_pose'])
    assert set(ours.loss(feats, samples, train_cfg=dict(compute_acc=False))) == {'loss_kpt'}


def test_loss_gradient_reaches_every_parameter():
    _, ours, scale = _build_pair('deconv-k3-k2-and-convs')
    ours.train()
    ours.loss(_feats(4), _data_samples(scale, seed=4))['loss_kpt'].backward()
    for param_name, param in ours.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), param_name
        assert param.grad.abs().sum() > 0, param_name


# ------------------------------------------------------------------------------------------ checkpoint loading


def test_loads_mmpose_v0_checkpoint_layout():
    """mmpose 0.x TopdownHeatmapSimpleHead kept intermediate convs inside ``final_layer``: renamed on load."""
    theirs, ours, _ = _build_pair('hrnetv2-conv-only')
    v2 = theirs.state_dict()
    v1 = OrderedDict()  # no metadata -> treated as an old-version state dict
    num_conv = len(theirs.conv_layers)
    for key, value in v2.items():
        if key.startswith('conv_layers.'):
            key = 'final_layer.' + key[len('conv_layers.'):]
        elif key.startswith('final_layer.'):
            key = f'final_layer.{num_conv}.' + key[len('final_layer.'):]
        v1[key] = value.clone() + 1.0
    fresh_theirs, fresh_ours, _ = _build_pair('hrnetv2-conv-only')
    fresh_theirs.load_state_dict(OrderedDict(v1), strict=True)
    fresh_ours.load_state_dict(OrderedDict(v1), strict=True)
    for (key_a, a), (key_b, b) in zip(fresh_ours.state_dict().items(), fresh_theirs.state_dict().items()):
        assert key_a == key_b
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    torch.testing.assert_close(fresh_ours.final_layer.weight, v2['final_layer.weight'] + 1.0)


def test_own_state_dict_round_trip_is_not_renamed():
    _, ours, _ = _build_pair('deconv-k3-k2-and-convs')
    _, other, _ = _build_pair('deconv-k3-k2-and-convs')
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    ours.load_state_dict(other.state_dict(), strict=True)
    feats = _feats(5)
    torch.testing.assert_close(ours(feats), other(feats))


# ------------------------------------------------------------------------------------------ config & registry


def test_registry_and_default_loss():
    cfg = dict(type='pose_plugins.HeatmapHead', in_channels=C, out_channels=K, deconv_out_channels=(8, ),
               deconv_kernel_sizes=(4, ))
    with DefaultScope.overwrite_default_scope('mmpose'):
        head = MMPOSE_MODELS.build(cfg)
        assert type(head) is HeatmapHead
        assert type(head.loss_module) is KeypointMSELoss
        assert type(MMPOSE_MODELS.build(dict(cfg, type='HeatmapHead'))) is MMPoseHeatmapHead
        assert type(MMPOSE_MODELS.build(dict(cfg, type='HeatmapHead')).loss_module) is MMPoseKeypointMSELoss
    assert head.decoder is None
    with pytest.raises(RuntimeError, match='decoder'):
        head.predict(_feats(), _data_samples(2))


def test_default_init():
    head = HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=(8, ), deconv_kernel_sizes=(4, ))
    head.init_weights()
    assert head.deconv_layers[0].weight.std() < 0.01
    assert torch.all(head.deconv_layers[1].weight == 1)
    assert torch.all(head.final_layer.bias == 0)


def test_default_arguments_are_not_shared():
    a = HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=None)
    b = HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=None,
                    final_layer=dict(kernel_size=3, padding=1))
    c = HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=None)
    assert a.final_layer.kernel_size == c.final_layer.kernel_size == (1, 1)
    assert b.final_layer.kernel_size == (3, 3)
    assert a.loss_module is not c.loss_module
    assert isinstance(HeatmapHead(in_channels=C, out_channels=K, final_layer=None).final_layer, nn.Identity)


def test_head_errors():
    with pytest.raises(ValueError, match=r'deconv_out_channels=\(8, 8\) and deconv_kernel_sizes=\(4,\)'):
        HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=(8, 8), deconv_kernel_sizes=(4, ))
    with pytest.raises(ValueError, match=r'conv_out_channels=\(8,\) and conv_kernel_sizes=None'):
        HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=None, conv_out_channels=(8, ))
    with pytest.raises(ValueError, match=r'got 2 in conv_kernel_sizes=\(2,\)'):
        HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=None, conv_out_channels=(8, ),
                    conv_kernel_sizes=(2, ))
    with pytest.raises(TypeError, match=r'in_channels.*\[8, 16\]'):
        HeatmapHead(in_channels=[8, 16], out_channels=K)
    with pytest.raises(TypeError):
        HeatmapHead(C, K)  # keyword-only


# ------------------------------------------------------------------------------------------------- DeconvStack


@pytest.mark.parametrize('kernel_size', [4, 3, 2])
def test_deconv_stack_doubles_size(kernel_size):
    stack = DeconvStack(in_channels=C, out_channels=(6, 5), kernel_sizes=(kernel_size, kernel_size))
    out = stack(torch.randn(1, C, 3, 5, generator=torch.Generator().manual_seed(0)))
    assert out.shape == (1, 5, 12, 20)
    assert stack.out_channels == 5
    deconv = stack[0]
    assert isinstance(deconv, nn.ConvTranspose2d) and deconv.bias is None and deconv.stride == (2, 2)
    assert isinstance(stack[1], nn.BatchNorm2d) and isinstance(stack[2], nn.ReLU)


def test_deconv_stack_parameter_names():
    stack = DeconvStack(in_channels=C, out_channels=(6, 5), kernel_sizes=(4, 4))
    assert list(stack.state_dict()) == [
        '0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked',
        '3.weight', '4.weight', '4.bias', '4.running_mean', '4.running_var', '4.num_batches_tracked']


def test_deconv_stack_errors():
    with pytest.raises(ValueError, match=r'kernel size 5 in kernel_sizes=\(4, 5\)'):
        DeconvStack(in_channels=C, out_channels=(6, 6), kernel_sizes=(4, 5))
    with pytest.raises(ValueError, match=r'out_channels=\(6, 6\) and kernel_sizes=\(4,\)'):
        DeconvStack(in_channels=C, out_channels=(6, 6), kernel_sizes=(4, ))
    with pytest.raises(ValueError, match=r'at least one block'):
        DeconvStack(in_channels=C, out_channels=(), kernel_sizes=())
