"""CPNHead (GlobalNet + RefineNet): structure, forward shapes and data flow, losses, predict with flip test, the
configs, and the real mmpose pipeline (CPNBlurHeatmap -> GenerateTarget -> PackPoseInputs -> loss)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.datasets.transforms import GenerateTarget, PackPoseInputs
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS as MMPOSE_MODELS
from mmpose.structures import PoseDataSample

from pose_plugins.models.heads.cpn_head import CPNHead
from pose_plugins.models.layers.refine_bottleneck import RefineBottleneck
from pose_plugins.models.losses.keypoint_mse_loss import KeypointMSELoss
from pose_plugins.models.losses.keypoint_ohkm_mse_loss import KeypointOHKMMSELoss

REPO = Path(__file__).resolve().parents[3]
B, K, C = 2, 10, 16
IN_CHANNELS = (8, 12, 16, 24)
H, W = 16, 12  # finest feature map = heatmap size
FLIP_INDICES = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8]
CODEC = dict(type='pose_plugins.CPNBlurHeatmap', input_size=(W * 4, H * 4), heatmap_size=(W, H),
             kernel_sizes=(9, 7, 5, 3), blur_kernel_size=5)


def _head(**kwargs) -> CPNHead:
    head = CPNHead(in_channels=IN_CHANNELS, out_channels=K, channels=C, decoder=CODEC, **kwargs)
    head.init_weights()
    return head


def _feats(seed: int = 0, batch: int = B):
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(batch, c, H // 2**i, W // 2**i, generator=gen) for i, c in enumerate(IN_CHANNELS))


def _data_samples(seed: int = 0, batch: int = B, encoder=CODEC, multilevel: bool = False):
    """Data samples through mmpose's real GenerateTarget + PackPoseInputs, one unlabelled keypoint each."""
    rng = np.random.default_rng(seed)
    w, h = CODEC['input_size']
    samples = []
    for b in range(batch):
        visible = np.ones((1, K), dtype=np.float32)
        visible[0, b] = 0
        results = dict(keypoints=rng.uniform(0, 1, (1, K, 2)) * (w, h), keypoints_visible=visible,
                       img=np.zeros((h, w, 3), np.uint8), flip_indices=FLIP_INDICES)
        results = GenerateTarget(encoder=encoder, multilevel=multilevel)(results)
        samples.append(PackPoseInputs(meta_keys=('flip_indices', ))(results)['data_samples'])
    return samples


# ----------------------------------------------------------------------------------------------- structure


def test_structure_follows_the_paper():
    head = _head()
    assert len(head.global_net.laterals) == 4 and len(head.global_net.merges) == 3
    # RefineNet: i bottlenecks (C out, C / 2 wide) at level i (0 = finest)
    assert isinstance(head.refine_net.levels[0], torch.nn.Identity)
    for i in range(1, 4):
        blocks = list(head.refine_net.levels[i])
        assert len(blocks) == i and all(type(b) is RefineBottleneck for b in blocks)
        assert all(b.conv2.in_channels == C // 2 and b.conv3.out_channels == C and b.downsample is None
                   for b in blocks)
    final = head.refine_net.final_bottleneck[0]
    assert final.conv1.in_channels == 4 * C and final.conv3.out_channels == C
    assert final.downsample[0].in_channels == 4 * C  # projection shortcut for the concatenation
    # the merge convs are plain 1x1 convs with bias (no BN, no activation); laterals have BN + ReLU
    assert all(type(m) is torch.nn.Conv2d and m.kernel_size == (1, 1) and m.bias is not None
               for m in head.global_net.merges)
    assert all(lat.with_norm and lat.with_activation for lat in head.global_net.laterals)
    # the heatmap convs are plain 3x3 convs (no BN) starting from N(0, 0.001); the rest Kaiming-normal
    heatmap_convs = [p[-1] for p in head.global_net.predictors] + [head.refine_net.final_layer]
    assert all(type(m) is torch.nn.Conv2d and m.kernel_size == (3, 3) and m.out_channels == K for m in heatmap_convs)
    assert all(m.weight.std() < 0.002 and not m.bias.any() for m in heatmap_convs)
    assert head.global_net.laterals[0].conv.weight.std() > 0.05
    assert type(head.loss_module[0]) is KeypointMSELoss and head.loss_module[0].loss_weight == 0.5
    assert type(head.loss_module[1]) is KeypointOHKMMSELoss and head.loss_module[1].topk == 8


def test_pretrained_init_cfg_is_loaded_after_the_heatmap_init(tmp_path):
    source = _head()
    with torch.no_grad():
        source.refine_net.final_layer.weight.fill_(0.5)
    torch.save(source.state_dict(), tmp_path / 'head.pth')
    head = CPNHead(in_channels=IN_CHANNELS, out_channels=K, channels=C,
                   init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'head.pth')))
    head.init_weights()
    assert (head.refine_net.final_layer.weight == 0.5).all()


def test_full_width_parameter_count():
    """CPN's head on ResNet-50 C2..C5 (256-wide pyramid, 128-wide bottlenecks), 17 keypoints: 3.50 M."""
    head = CPNHead(in_channels=(256, 512, 1024, 2048), out_channels=17)
    assert sum(p.numel() for p in head.parameters()) == 3_501_653


# ----------------------------------------------------------------------------------------------------- forward


def test_forward_returns_global_levels_coarsest_first_then_refine():
    head = _head().eval()
    feats = _feats()
    outputs = head(feats)
    assert isinstance(outputs, tuple) and len(outputs) == 5
    assert all(o.shape == (B, K, H, W) for o in outputs)
    # the coarsest GlobalNet output depends on C5 only; the finest on every level; RefineNet on every level
    changed = (feats[0] + 1.0, ) + feats[1:]
    with torch.no_grad():
        again = head(changed)
    torch.testing.assert_close(again[0], outputs[0])
    assert not torch.allclose(again[3], outputs[3]) and not torch.allclose(again[4], outputs[4])
    changed = feats[:3] + (feats[3] + 1.0, )
    with torch.no_grad():
        again = head(changed)
    assert all(not torch.allclose(a, o) for a, o in zip(again, outputs))


def test_forward_handles_odd_feature_sizes():
    head = _head().eval()
    feats = tuple(torch.randn(1, c, s[0], s[1]) for c, s in zip(IN_CHANNELS, [(15, 11), (8, 6), (4, 3), (2, 2)]))
    assert all(o.shape == (1, K, 15, 11) for o in head(feats))


def test_constructor_errors_name_the_value():
    with pytest.raises(ValueError, match=r'in_channels .*got 256'):
        CPNHead(in_channels=256, out_channels=K)
    with pytest.raises(ValueError, match=r'out_channels .*got 0'):
        CPNHead(in_channels=IN_CHANNELS, out_channels=0)
    with pytest.raises(ValueError, match=r'list of two loss configs'):
        CPNHead(in_channels=IN_CHANNELS, out_channels=K, loss=dict(type='pose_plugins.KeypointMSELoss'))
    with pytest.raises(ValueError, match=r'even int .*got 15'):
        CPNHead(in_channels=IN_CHANNELS, out_channels=K, channels=15)


# -------------------------------------------------------------------------------------------------------- loss


def test_loss_is_global_mean_over_levels_plus_refine_ohkm():
    head = _head().train()
    feats, samples = _feats(1), _data_samples(1)
    losses = head.loss(feats, samples)
    assert set(losses) == {'loss_kpt', 'mse_global', 'ohkm_refine', 'acc_pose'}
    assert not losses['mse_global'].requires_grad and not losses['ohkm_refine'].requires_grad
    torch.testing.assert_close(losses['loss_kpt'], losses['mse_global'] + losses['ohkm_refine'])

    outputs = head(feats)
    targets = [torch.stack([s.gt_fields[level].heatmaps for s in samples]) for level in range(4)]
    weights = torch.stack([s.gt_instance_labels.keypoint_weights[0, 0] for s in samples])  # (B, K)
    assert weights[0, 0] == 0 and weights[1, 1] == 0
    mse = KeypointMSELoss(use_target_weight=True)
    want_global = 0.5 * sum(mse(outputs[level], targets[level], weights) for level in range(4)) / 4
    want_refine = KeypointOHKMMSELoss(use_target_weight=True, topk=8)(outputs[4], targets[3], weights)
    torch.testing.assert_close(losses['mse_global'], want_global)
    torch.testing.assert_close(losses['ohkm_refine'], want_refine)
    assert set(head.loss(feats, samples, train_cfg=dict(compute_acc=False))) == {'loss_kpt', 'mse_global',
                                                                                'ohkm_refine'}


def test_loss_targets_pair_coarse_levels_with_wide_kernels():
    """A head whose GlobalNet outputs equal the targets has zero GlobalNet loss only in the documented order."""
    head = _head().train()
    samples = _data_samples(2)
    targets = tuple(torch.stack([s.gt_fields[level].heatmaps for s in samples]) for level in range(4))
    head.forward = lambda feats: targets + (targets[-1], )
    losses = head.loss(_feats(2), samples)
    assert losses['mse_global'] == 0 and losses['ohkm_refine'] == 0 and losses['acc_pose'] == 1
    head.forward = lambda feats: targets[::-1] + (targets[-1], )
    assert head.loss(_feats(2), samples)['mse_global'] > 0


def test_loss_gradient_reaches_every_parameter():
    head = _head().train()
    head.loss(_feats(3), _data_samples(3))['loss_kpt'].backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0, name


def test_loss_rejects_single_level_targets():
    head = _head().train()
    single = _data_samples(4, encoder=dict(CODEC, kernel_sizes=7))
    with pytest.raises(ValueError, match=r'4-level target heatmaps, got single-level'):
        head.loss(_feats(4), single)
    three = _data_samples(4, encoder=dict(CODEC, kernel_sizes=(9, 7, 5)))
    with pytest.raises(ValueError, match=r'4-level target heatmaps, got 3'):
        head.loss(_feats(4), three)


def test_loss_accepts_mmposes_multilevel_encoders():
    """Targets from GenerateTarget(encoder=[4 single-level codecs], multilevel=True) give the same losses."""
    head = _head().train()
    feats = _feats(5)
    encoders = [dict(CODEC, kernel_sizes=k) for k in CODEC['kernel_sizes']]
    want = head.loss(feats, _data_samples(5))
    got = head.loss(feats, _data_samples(5, encoder=encoders, multilevel=True))
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)


# ----------------------------------------------------------------------------------------------------- predict


@pytest.mark.parametrize('flip', [False, True], ids=['no-flip', 'flip'])
def test_predict_decodes_refine_output_with_flip_test(flip: bool):
    head = _head().eval()
    samples = [PoseDataSample(metainfo=dict(flip_indices=FLIP_INDICES)) for _ in range(B)]
    feats = _feats(6)
    flipped = tuple(f.flip(-1) for f in feats)
    test_cfg = dict(flip_test=flip, flip_mode='heatmap', shift_heatmap=False, output_heatmaps=True)
    with torch.no_grad():
        preds, maps = head.predict([feats, flipped] if flip else feats, samples, test_cfg=test_cfg)
        want_maps = head(feats)[-1]
        if flip:
            want_maps = 0.5 * (want_maps + flip_heatmaps(head(flipped)[-1], flip_indices=FLIP_INDICES,
                                                        shift_heatmap=False))
    assert len(preds) == B and all(isinstance(p, InstanceData) for p in preds)
    assert all(isinstance(m, PixelData) and m.heatmaps.shape == (K, H, W) for m in maps)
    torch.testing.assert_close(torch.stack([m.heatmaps for m in maps]), want_maps)
    keypoints, scores = head.decoder.batch_decode(want_maps)
    for b, pred in enumerate(preds):
        assert pred.keypoints.shape == (1, K, 2) and pred.keypoint_scores.shape == (1, K)
        np.testing.assert_allclose(pred.keypoints, keypoints[b], rtol=1e-6)
        np.testing.assert_allclose(pred.keypoint_scores, scores[b], rtol=1e-6)


# ----------------------------------------------------------------------------------------------------- configs


def test_res50_config_forward_loss_predict_on_one_64x48_sample():
    """configs/cpn_res50_coco.py builds our classes; one 64x48 sample (16x12 heatmaps) trains and predicts."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'cpn_res50_coco.py'))
    small_codec = dict(cfg.codec, input_size=(48, 64), heatmap_size=(12, 16), blur_kernel_size=5)
    cfg.model.head.decoder = small_codec
    init_default_scope('mmpose')
    model = MMPOSE_MODELS.build(cfg.model)
    assert type(model.backbone).__module__ == 'pose_plugins.models.backbones.resnet'
    assert type(model.head) is CPNHead and type(model.head.decoder).__name__ == 'CPNBlurHeatmap'
    assert model.head.decoder.kernel_sizes == (15, 11, 9, 7) and model.backbone.out_indices == (0, 1, 2, 3)
    model.init_weights()

    samples = []
    rng = np.random.default_rng(7)
    results = dict(keypoints=rng.uniform(0, 1, (1, 17, 2)) * (48, 64), keypoints_visible=np.ones((1, 17)),
                   img=np.zeros((64, 48, 3), np.uint8), flip_indices=list(range(17)))
    samples.append(PackPoseInputs(meta_keys=('flip_indices', 'input_size', 'input_center', 'input_scale'))(
        GenerateTarget(encoder=small_codec)(results))['data_samples'])
    inputs = torch.randn(1, 3, 64, 48)
    model.train()
    losses = model(inputs, samples, mode='loss')
    assert {'loss_kpt', 'mse_global', 'ohkm_refine', 'acc_pose'} <= set(losses)
    assert torch.isfinite(losses['loss_kpt'])
    losses['loss_kpt'].backward()

    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        assert [tuple(f.shape[1:]) for f in feats] == [(256, 16, 12), (512, 8, 6), (1024, 4, 3), (2048, 2, 2)]
        flipped = model.extract_feat(inputs.flip(-1))
        preds = model.head.predict([feats, flipped], samples, test_cfg=dict(cfg.model.test_cfg))
    assert preds[0].keypoints.shape == (1, 17, 2) and np.isfinite(preds[0].keypoints).all()


def test_demo_config_builds_narrow_cpn():
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / 'cpn_tiny_synthetic.py'))
    init_default_scope('mmpose')
    model = MMPOSE_MODELS.build(cfg.model)
    assert type(model.head) is CPNHead and model.head.in_channels == model.backbone.out_channels
    assert model.head.decoder.heatmap_size == (24, 32) and model.head.decoder.kernel_sizes == (7, 5, 5, 3)
    with torch.no_grad():
        outputs = model.eval()._forward(torch.randn(1, 3, 128, 96))
    assert len(outputs) == 5 and all(o.shape == (1, 17, 32, 24) for o in outputs)
