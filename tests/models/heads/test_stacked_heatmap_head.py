"""StackedHeatmapHead: per-stack losses summed, last-stack accuracy and prediction (= HeatmapHead's), errors."""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData
from mmpose.evaluation.functional import pose_pck_accuracy
from mmpose.registry import MODELS as MMPOSE_MODELS
from mmpose.structures import PoseDataSample

from conftest import assert_same_predictions, randomize_norms
from pose_plugins.models.heads.heatmap_head import HeatmapHead
from pose_plugins.models.heads.stacked_heatmap_head import StackedHeatmapHead
from pose_plugins.models.losses.keypoint_mse_loss import KeypointMSELoss

B, K, S, H, W = 3, 4, 3, 8, 6
FLIP_INDICES = [1, 0, 3, 2]
CODEC = dict(type='pose_plugins.MSRAHeatmap', input_size=(W * 4, H * 4), heatmap_size=(W, H), sigma=2)


def _stacks(seed: int = 0, num_stacks: int = S, requires_grad: bool = False):
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(B, K, H, W, generator=gen).requires_grad_(requires_grad) for _ in range(num_stacks))


def _data_samples(seed: int = 0):
    gen = torch.Generator().manual_seed(1000 + seed)  # not the heatmaps' seed: targets must differ from them
    samples = []
    for i in range(B):
        sample = PoseDataSample(metainfo=dict(flip_indices=FLIP_INDICES))
        sample.gt_fields = PixelData(heatmaps=torch.rand(K, H, W, generator=gen))
        weights = torch.ones(1, K)
        weights[0, i] = 0.0  # one unlabelled keypoint per sample
        sample.gt_instance_labels = InstanceData(keypoint_weights=weights)
        samples.append(sample)
    return samples


def _head(**kwargs) -> StackedHeatmapHead:
    return StackedHeatmapHead(**{**dict(num_stacks=S, out_channels=K, decoder=CODEC), **kwargs})


def test_has_no_parameters_and_default_loss_is_ours():
    head = _head()
    assert list(head.parameters()) == []
    assert len(head.loss_modules) == S
    assert all(type(m) is KeypointMSELoss and m.use_target_weight for m in head.loss_modules)


def test_loss_is_sum_of_per_stack_mse_computed_by_hand():
    head = _head().train()
    stacks, samples = _stacks(1), _data_samples(1)
    gt = torch.stack([d.gt_fields.heatmaps for d in samples])
    weights = torch.cat([d.gt_instance_labels.keypoint_weights for d in samples])
    mse = KeypointMSELoss(use_target_weight=True)
    by_loss_class = [mse(p, gt, weights) for p in stacks]
    by_formula = [((p - gt)**2 * weights[:, :, None, None]).mean() for p in stacks]
    torch.testing.assert_close(torch.stack(by_loss_class), torch.stack(by_formula))

    losses = head.loss(stacks, samples)
    assert set(losses) == {'loss_kpt', 'acc_pose'} | {f'kpt_stack{s}' for s in range(1, S + 1)}
    torch.testing.assert_close(losses['loss_kpt'], sum(by_formula))
    for s in range(S):
        torch.testing.assert_close(losses[f'kpt_stack{s + 1}'], by_formula[s])
        assert not losses[f'kpt_stack{s + 1}'].requires_grad  # logged only, never summed twice
    _, acc, _ = pose_pck_accuracy(stacks[-1].numpy(), gt.numpy(), weights.numpy() > 0)
    assert float(losses['acc_pose']) == pytest.approx(acc)
    assert set(head.loss(stacks, samples, train_cfg=dict(compute_acc=False))) == {'loss_kpt', 'kpt_stack1',
                                                                                  'kpt_stack2', 'kpt_stack3'}


def test_mmengine_sums_only_loss_kpt():
    """mmengine adds every entry whose name contains 'loss': only loss_kpt may, or stacks count twice."""
    from mmengine.model import BaseModel
    losses = _head().loss(_stacks(2), _data_samples(2))
    total, _ = BaseModel.parse_losses(None, losses)
    torch.testing.assert_close(total, losses['loss_kpt'])


def test_loss_list_weights_each_stack():
    weights = (0.5, 0.25, 2.0)
    head = _head(loss=[dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True, loss_weight=w)
                       for w in weights])
    plain = _head()
    stacks, samples = _stacks(3), _data_samples(3)
    per_stack = plain.loss(stacks, samples)
    expected = sum(w * per_stack[f'kpt_stack{s + 1}'] for s, w in enumerate(weights))
    torch.testing.assert_close(head.loss(stacks, samples)['loss_kpt'], expected)


def test_loss_gradient_reaches_every_stack():
    stacks = _stacks(4, requires_grad=True)
    _head().loss(stacks, _data_samples(4))['loss_kpt'].backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in stacks)


@pytest.mark.parametrize('test_cfg', [
    pytest.param(dict(), id='no-flip'),
    pytest.param(dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True, output_heatmaps=True), id='flip-shift'),
    pytest.param(dict(flip_test=True, shift_heatmap=False), id='flip-noshift'),
])
def test_predict_equals_heatmap_head_on_last_stack(test_cfg):
    """HeatmapHead without layers maps feats[-1] to itself: its predict on the last stack is the reference."""
    head = _head().eval()
    reference = HeatmapHead(in_channels=K, out_channels=K, deconv_out_channels=None, final_layer=None,
                            decoder=CODEC).eval()
    samples = _data_samples(5)
    stacks, flipped = _stacks(5), _stacks(6)
    feats = [stacks, flipped] if test_cfg.get('flip_test') else stacks
    ref_feats = [(stacks[-1], ), (flipped[-1], )] if test_cfg.get('flip_test') else (stacks[-1], )
    actual = head.predict(feats, samples, test_cfg=dict(test_cfg))
    expected = reference.predict(ref_feats, samples, test_cfg=dict(test_cfg))
    if test_cfg.get('output_heatmaps'):
        assert all(m.heatmaps.shape == (K, H, W) for m in actual[1])
    assert_same_predictions(actual, expected, batch=B, num_keypoints=K)


def test_flip_test_on_mirror_symmetric_image_is_left_right_consistent():
    """A mirror-symmetric image and flip indices [1, 0]: with flip test the averaged heatmaps are invariant under
    flip + swap for any network, so keypoint 1 comes out as keypoint 0's mirror image, at the same height and with
    the same score. Without flip test a random network is not mirror-equivariant, so the check is not vacuous.

    The averaged heatmaps are exactly mirrored; the decoded x0 + x1 = (W - 1) * stride (no heatmap shift) and
    y0 = y1 hold up to the quarter-pixel refinement, which mmpose's decoder (and ours, bit-exact with it) applies
    asymmetrically at the borders (x moves only if 1 < x < W - 1, y only if 0 < x < W)."""
    from pose_plugins.models.backbones.stacked_hourglass import StackedHourglass
    # random BN statistics and affine parameters, so the eval-mode network is far from symmetric
    backbone = randomize_norms(StackedHourglass(out_channels=2, num_stacks=2, order=1, num_channels=8,
                                                stem_channels=(4, 8)), seed=11).eval()
    half = torch.rand(B, 3, H * 4, W * 2, generator=torch.Generator().manual_seed(7))
    image = torch.cat([half, half.flip(-1)], dim=-1)  # (B, 3, 4H, 4W), equal to its mirror image
    samples = [PoseDataSample(metainfo=dict(flip_indices=[1, 0])) for _ in range(B)]
    head = _head(num_stacks=2, out_channels=2).eval()
    with torch.no_grad():
        feats = [backbone(image), backbone(image.flip(-1))]
    with_flip, maps = head.predict(feats, samples, test_cfg=dict(flip_test=True, output_heatmaps=True))
    without, raw_maps = head.predict(feats[0], samples, test_cfg=dict(output_heatmaps=True))
    stride = 4
    for a, m in zip(with_flip, maps):
        torch.testing.assert_close(m.heatmaps[1], m.heatmaps[0].flip(-1))
        (k0, k1), (s0, s1) = a.keypoints[0], a.keypoint_scores[0]
        assert k0[0] + k1[0] == pytest.approx((W - 1) * stride, abs=stride / 4 + 1e-4)
        assert k0[1] == pytest.approx(k1[1], abs=stride / 4 + 1e-4) and s0 == pytest.approx(s1)
    assert not any(torch.allclose(m.heatmaps[1], m.heatmaps[0].flip(-1)) for m in raw_maps)


def test_forward_returns_every_stack_and_checks_them():
    head = _head()
    stacks = _stacks(8)
    out = head(stacks)
    assert isinstance(out, tuple) and len(out) == S and all(o is s for o, s in zip(out, stacks))
    with pytest.raises(ValueError, match=r'num_stacks=3\) expects one heatmap tensor per stack, got tuple of length 2'):
        head(stacks[:2])
    with pytest.raises(ValueError, match=r'got Tensor'):
        head(stacks[0])
    with pytest.raises(ValueError, match=r'stack 2 heatmaps must be \(B, K=4, H, W\) like stack 1, got \(3, 5, 8, 6\)'):
        head((stacks[0], torch.rand(B, K + 1, H, W), stacks[2]))


@pytest.mark.parametrize('loss', [
    [dict(type='pose_plugins.KeypointMSELoss')] * 2,
    'pose_plugins.KeypointMSELoss',
], ids=['wrong-length', 'not-a-dict'])
def test_bad_loss_config(loss):
    with pytest.raises(ValueError, match=r'one loss config \(dict\) or a list of num_stacks = 3'):
        _head(loss=loss)


def test_flip_test_needs_two_feature_sets():
    with pytest.raises(ValueError, match=r'flip_test expects feats = \[feats, flipped_feats\], got tuple of length 3'):
        _head().predict(_stacks(9), _data_samples(9), test_cfg=dict(flip_test=True))


def test_registry_builds_ours_under_mmpose_scope():
    with DefaultScope.overwrite_default_scope('mmpose'):
        head = MMPOSE_MODELS.build(dict(type='pose_plugins.StackedHeatmapHead', num_stacks=2, out_channels=K,
                                        decoder=CODEC))
    assert type(head) is StackedHeatmapHead
    assert type(head.loss_modules[0]) is KeypointMSELoss


def test_topdown_estimator_trains_and_predicts_with_flip():
    """mmpose's TopdownPoseEstimator with our backbone + head: loss dict and flip-test predictions."""
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MMPOSE_MODELS.build(dict(
            type='TopdownPoseEstimator',
            backbone=dict(type='pose_plugins.StackedHourglass', num_stacks=2, order=1, out_channels=K,
                          num_channels=8, stem_channels=(4, 8)),
            head=dict(type='pose_plugins.StackedHeatmapHead', num_stacks=2, out_channels=K, decoder=CODEC),
            test_cfg=dict(flip_test=True, shift_heatmap=True)))
    model.init_weights()
    inputs = torch.rand(B, 3, H * 4, W * 4 + 2)[..., :W * 4]
    samples = _data_samples(10)
    for sample in samples:
        sample.gt_instances = InstanceData(bboxes=np.array([[0., 0., 24., 32.]]), bbox_scores=np.ones(1))
        sample.set_metainfo(dict(input_size=(W * 4, H * 4), input_center=np.array([12., 16.]),
                                 input_scale=np.array([24., 32.])))
    model.train()
    losses = model.loss(inputs, samples)
    assert {'loss_kpt', 'kpt_stack1', 'kpt_stack2', 'acc_pose'} <= set(losses)
    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, samples)
    assert len(results) == B and results[0].pred_instances.keypoints.shape == (1, K, 2)
