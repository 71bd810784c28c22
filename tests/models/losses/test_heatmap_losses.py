"""KeypointMSELoss and KeypointOHKMMSELoss: parity with mmpose, hand-computed values, errors, gradients."""
import pytest
import torch
from mmpose.models.losses import KeypointMSELoss as MMPoseKeypointMSELoss
from mmpose.models.losses import KeypointOHKMMSELoss as MMPoseKeypointOHKMMSELoss

from pose_plugins.models.losses.keypoint_mse_loss import KeypointMSELoss
from pose_plugins.models.losses.keypoint_ohkm_mse_loss import KeypointOHKMMSELoss
from pose_plugins.registry import MODELS

B, K, H, W = 3, 10, 8, 6
ATOL = 1e-7
RTOL = 1e-5


def _inputs(seed: int = 0):
    """Seeded (B, K, H, W) output/target with two all-zero target channels, (B, K) weights with zeros."""
    gen = torch.Generator().manual_seed(seed)
    output = torch.randn(B, K, H, W, generator=gen)
    target = torch.rand(B, K, H, W, generator=gen)
    target[0, 2] = 0.0  # empty channels (no visible keypoint)
    target[2, 7] = 0.0
    weights = torch.rand(B, K, generator=gen) + 0.5
    weights[0, 3] = 0.0  # zero-weight (unlabelled) keypoints
    weights[1, :4] = 0.0
    pixel_weights = torch.rand(B, K, H, W, generator=gen)
    mask = (torch.rand(B, 1, H, W, generator=gen) > 0.3).float()
    return output, target, weights, pixel_weights, mask


# ------------------------------------------------------------------------------------------------ KeypointMSELoss


@pytest.mark.parametrize(
    'weights_kind, use_mask, skip_empty_channel, loss_weight',
    [
        pytest.param(None, False, False, 1.0, id='plain'),
        pytest.param('keypoint', False, False, 1.0, id='keypoint-weights'),
        pytest.param('pixel', False, False, 1.0, id='pixel-weights'),
        pytest.param(None, True, False, 1.0, id='mask'),
        pytest.param(None, False, True, 1.0, id='skip-empty'),
        pytest.param('keypoint', True, True, 0.5, id='all-combined'),
        pytest.param('pixel', True, True, 2.0, id='pixel-combined'),
    ])
def test_mse_matches_mmpose(weights_kind, use_mask, skip_empty_channel, loss_weight):
    output, target, weights, pixel_weights, mask = _inputs()
    target_weights = {None: None, 'keypoint': weights, 'pixel': pixel_weights}[weights_kind]
    ours = KeypointMSELoss(
        use_target_weight=target_weights is not None, skip_empty_channel=skip_empty_channel,
        loss_weight=loss_weight)
    theirs = MMPoseKeypointMSELoss(
        use_target_weight=target_weights is not None, skip_empty_channel=skip_empty_channel,
        loss_weight=loss_weight)
    kwargs = dict(mask=mask) if use_mask else {}
    expected = theirs(output, target, target_weights, **kwargs)
    actual = ours(output, target, target_weights, **kwargs)
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=RTOL)


def test_mse_weights_are_applied():
    """Zero weights remove a keypoint's error entirely (unlike mmpose's stored-but-unread flag, ours decides)."""
    output, target, weights, _, _ = _inputs(1)
    loss = KeypointMSELoss(use_target_weight=True)
    changed = output.clone()
    changed[1, :4] += 100.0  # keypoints with weight 0 in sample 1
    torch.testing.assert_close(loss(changed, target, weights), loss(output, target, weights), atol=0, rtol=0)
    assert loss(output, target, weights) != KeypointMSELoss()(output, target, weights)


def test_mse_use_target_weight_false_ignores_weights():
    output, target, weights, _, _ = _inputs(2)
    ignored = KeypointMSELoss(use_target_weight=False)(output, target, weights)
    torch.testing.assert_close(ignored, MMPoseKeypointMSELoss()(output, target), atol=ATOL, rtol=RTOL)


def test_mse_hand_computed():
    # B=1, K=2, H=1, W=2; squared errors: k0 -> [1, 4], k1 -> [9, 1]; mean over 4 elements.
    output = torch.tensor([[[[1.0, 2.0]], [[0.0, 0.0]]]])
    target = torch.tensor([[[[0.0, 0.0]], [[3.0, 1.0]]]])
    assert KeypointMSELoss()(output, target).item() == pytest.approx(15 / 4)
    weights = torch.tensor([[1.0, 0.0]])
    assert KeypointMSELoss(use_target_weight=True)(output, target, weights).item() == pytest.approx(5 / 4)
    weights = torch.tensor([[0.5, 2.0]])
    assert KeypointMSELoss(use_target_weight=True)(output, target, weights).item() == pytest.approx(
        (0.5 * 5 + 2.0 * 10) / 4)
    # target channel 0 is empty -> skipped, still counted in the denominator
    assert KeypointMSELoss(skip_empty_channel=True)(output, target).item() == pytest.approx(10 / 4)
    mask = torch.tensor([[[[1.0, 0.0]]]])  # (B, 1, H, W): drop pixel x=1 of every channel
    assert KeypointMSELoss(loss_weight=2.0)(output, target, mask=mask).item() == pytest.approx(2 * (1 + 9) / 4)


def test_mse_errors():
    output, target, weights, _, _ = _inputs()
    with pytest.raises(ValueError, match=r'output \(3, 10, 8, 6\) and target \(3, 10, 8, 5\)'):
        KeypointMSELoss()(output, target[..., :5])
    with pytest.raises(ValueError, match=r'target_weights \(3, 9\) and target \(3, 10, 8, 6\)'):
        KeypointMSELoss(use_target_weight=True)(output, target, weights[:, :9])
    with pytest.raises(ValueError, match=r'use_target_weight=True.*got None'):
        KeypointMSELoss(use_target_weight=True)(output, target)
    with pytest.raises(ValueError, match=r'mask \(3, 2, 8, 6\) and target \(3, 10, 8, 6\)'):
        KeypointMSELoss()(output, target, mask=torch.ones(3, 2, 8, 6))
    with pytest.raises(ValueError, match=r'\(B, K, H, W\).*\(3, 10, 48\)'):
        KeypointMSELoss()(output.flatten(2), target.flatten(2))


def test_mse_gradients():
    output, target, weights, _, _ = _inputs(3)
    output.requires_grad_(True)
    KeypointMSELoss(use_target_weight=True)(output, target, weights).backward()
    assert torch.isfinite(output.grad).all()
    assert (output.grad[1, :4] == 0).all()  # zero-weight keypoints get no gradient
    assert (output.grad[1, 4:].abs() > 0).any()


# ------------------------------------------------------------------------------------------- KeypointOHKMMSELoss


@pytest.mark.parametrize('use_target_weight', [False, True], ids=['no-weights', 'weights'])
@pytest.mark.parametrize('topk', [1, 4, 8, K])
def test_ohkm_matches_mmpose(use_target_weight, topk):
    output, target, weights, _, _ = _inputs(4)
    ours = KeypointOHKMMSELoss(use_target_weight=use_target_weight, topk=topk, loss_weight=1.5)
    theirs = MMPoseKeypointOHKMMSELoss(use_target_weight=use_target_weight, topk=topk, loss_weight=1.5)
    torch.testing.assert_close(ours(output, target, weights), theirs(output, target, weights), atol=ATOL, rtol=RTOL)


def test_ohkm_hand_computed():
    # B=2, K=3, H=W=1, topk=2. Per-keypoint squared errors: sample 0 [1, 4, 9], sample 1 [0, 1, 0.25].
    output = torch.tensor([1.0, 2.0, 3.0, 0.0, 1.0, 0.5]).view(2, 3, 1, 1)
    target = torch.zeros(2, 3, 1, 1)
    loss = KeypointOHKMMSELoss(topk=2)
    assert loss(output, target).item() == pytest.approx(((9 + 4) / 2 + (1 + 0.25) / 2) / 2)
    # weights zero out keypoint 2 of sample 0 and keypoint 1 of sample 1: errors [1, 4, 0], [0, 0, 0.25]
    weights = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    loss = KeypointOHKMMSELoss(topk=2, use_target_weight=True)
    assert loss(output, target, weights).item() == pytest.approx(((4 + 1) / 2 + (0.25 + 0) / 2) / 2)
    # weights enter squared (they multiply the heatmaps, as in mmpose and the original CPN code)
    weights = torch.full((2, 3), 2.0)
    assert loss(output, target, weights).item() == pytest.approx(4 * ((9 + 4) / 2 + (1 + 0.25) / 2) / 2)


def test_ohkm_pixel_weights_equal_keypoint_weights_when_constant():
    output, target, weights, _, _ = _inputs(5)
    loss = KeypointOHKMMSELoss(use_target_weight=True, topk=4)
    pixel = weights[:, :, None, None].expand(B, K, H, W)
    torch.testing.assert_close(loss(output, target, pixel), loss(output, target, weights), atol=ATOL, rtol=RTOL)


def test_ohkm_errors():
    output, target, weights, _, _ = _inputs()
    with pytest.raises(ValueError, match=r'K=10 keypoints and topk=11'):
        KeypointOHKMMSELoss(topk=11)(output, target)
    with pytest.raises(ValueError, match=r'K=3 keypoints and topk=8'):
        KeypointOHKMMSELoss()(output[:, :3], target[:, :3])
    with pytest.raises(ValueError, match=r'output \(3, 10, 8, 6\) and target \(2, 10, 8, 6\)'):
        KeypointOHKMMSELoss(topk=2)(output, target[:2])
    with pytest.raises(ValueError, match=r'topk=0'):
        KeypointOHKMMSELoss(topk=0)
    with pytest.raises(ValueError, match=r'use_target_weight=True.*got None'):
        KeypointOHKMMSELoss(topk=2, use_target_weight=True)(output, target)


def test_ohkm_gradients_reach_only_hardest_keypoints():
    output, target, _, _, _ = _inputs(6)
    output.requires_grad_(True)
    topk = 3
    KeypointOHKMMSELoss(topk=topk)(output, target).backward()
    assert torch.isfinite(output.grad).all()
    has_grad = output.grad.flatten(2).abs().sum(-1) > 0  # (B, K)
    assert has_grad.sum(dim=1).tolist() == [topk] * B
    per_keypoint = (output.detach() - target).pow(2).mean(dim=(2, 3))
    expected = torch.zeros(B, K, dtype=torch.bool).scatter_(1, per_keypoint.topk(topk, dim=1).indices, True)
    assert torch.equal(has_grad, expected)


# ---------------------------------------------------------------------------------------------------- registry


@pytest.mark.parametrize('name, cls', [('KeypointMSELoss', KeypointMSELoss),
                                       ('KeypointOHKMMSELoss', KeypointOHKMMSELoss)])
def test_scoped_names_build_ours(name, cls):
    assert type(MODELS.build(dict(type=f'pose_plugins.{name}'))) is cls
    from mmpose.registry import MODELS as MMPOSE_MODELS
    assert type(MMPOSE_MODELS.build(dict(type=f'pose_plugins.{name}'))) is cls
    assert type(MMPOSE_MODELS.build(dict(type=name))) is not cls
