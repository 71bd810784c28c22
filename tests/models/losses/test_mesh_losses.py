"""Mesh-recovery losses: masks (no SMPL ground truth, invisible keypoints, no 3D), root-relative joints, shape
prior, the reference (mmpose 0.x) reductions."""
import pytest
import torch
import torch.nn.functional as F

from pose_plugins.models.losses import MaskedRegressionLoss, RootRelativeJointLoss, ShapePriorLoss


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_samples_without_smpl_do_not_count():
    loss = MaskedRegressionLoss(criterion='mse', loss_weight=30.0)
    pred = _rand(3, 24, 3, 3).requires_grad_()
    target = _rand(3, 24, 3, 3, seed=1)
    has_body = torch.tensor([1.0, 0.0, 1.0])
    value = loss(pred, target, has_body)
    # mmpose 0.x MeshLoss.smpl_losses: mean over every element, masked samples included in the count
    expected = 30.0 * (F.mse_loss(pred, target, reduction='none') * has_body[:, None, None, None]).mean()
    torch.testing.assert_close(value, expected)
    value.backward()
    assert pred.grad[1].abs().max() == 0 and pred.grad[0].abs().max() > 0
    changed = target.clone()
    changed[1] += 100.0  # a sample without SMPL: its (garbage) target changes nothing
    torch.testing.assert_close(loss(pred, changed, has_body), value)
    none = loss(pred, target, torch.zeros(3))
    assert none.item() == 0.0 and none.requires_grad  # no SMPL in the batch: 0, graph kept


def test_invisible_keypoints_do_not_count():
    loss = MaskedRegressionLoss(criterion='smooth_l1', loss_weight=100.0)
    pred, target = _rand(2, 17, 2).requires_grad_(), _rand(2, 17, 2, seed=1)
    visible = torch.ones(2, 17)
    visible[0, 3] = visible[1, 10:] = 0.0
    value = loss(pred, target, visible)
    moved = target.clone()
    moved[0, 3] = moved[1, 12] = 50.0
    torch.testing.assert_close(loss(pred, moved, visible), value)
    value.backward()
    assert pred.grad[0, 3].abs().max() == 0 and pred.grad[1, 10:].abs().max() == 0
    expected = 100.0 * (F.smooth_l1_loss(pred, target, reduction='none') * visible[..., None]).mean()
    torch.testing.assert_close(value, expected)


def test_root_relative_joints_ignore_translation_and_masks():
    loss = RootRelativeJointLoss(loss_weight=1000.0)
    pred, target = _rand(3, 17, 3) * 0.3, _rand(3, 17, 3, seed=1) * 0.3
    value = loss(pred, target)
    shifted = loss(pred + torch.tensor([0.5, -2.0, 7.0]), target - torch.tensor([1.0, 0.0, 3.0]))
    torch.testing.assert_close(shifted, value)  # float32 of O(1) values: default tolerances (1.3e-6 relative)
    roots = lambda x: x - x[:, 11:13].mean(1, keepdim=True)  # noqa: E731
    torch.testing.assert_close(value, 1000.0 * F.smooth_l1_loss(roots(pred), roots(target)))
    has_3d = torch.tensor([1.0, 0.0, 0.0])
    torch.testing.assert_close(loss(pred, target, has_3d),
                               1000.0 * (F.smooth_l1_loss(roots(pred), roots(target), reduction='none')
                                         * has_3d[:, None, None]).mean())
    with pytest.raises(ValueError, match=r'\(B, K, 3\)'):
        loss(pred[:, :5], target[:, :5])


def test_shape_prior_and_errors():
    betas = _rand(4, 10)
    torch.testing.assert_close(ShapePriorLoss()(betas), 0.001 * betas.pow(2).mean())
    with pytest.raises(ValueError, match='criterion must be one of'):
        MaskedRegressionLoss(criterion='huber')
    with pytest.raises(ValueError, match=r'mask \(3,\) must be a prefix'):
        MaskedRegressionLoss()(_rand(2, 4), _rand(2, 4), torch.ones(3))
