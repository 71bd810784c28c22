"""KeypointJSDivergenceLoss: mmpose's JSDiscretLoss values, float64 reference, finite gradients where mmpose's NaN."""
import pytest
import torch
from mmpose.models.losses import JSDiscretLoss as MMPoseJSDiscretLoss

from pose_plugins.models.losses import KeypointJSDivergenceLoss


def _maps(seed, b=3, k=4, h=6, w=5, beta=3.0):
    gen = torch.Generator().manual_seed(seed)
    pred = torch.softmax(torch.randn(b, k, h * w, generator=gen) * beta, -1).reshape(b, k, h, w)
    target = torch.softmax(torch.randn(b, k, h * w, generator=gen) * beta, -1).reshape(b, k, h, w)
    target[0, 1] = 0.0  # an unlabelled keypoint: empty target
    weights = torch.ones(b, k)
    weights[0, 1] = weights[2, 3] = 0.0
    return pred, target, weights


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_values_equal_mmpose_for_binary_weights(seed):
    pred, target, weights = _maps(seed)
    ours = KeypointJSDivergenceLoss()(pred, target, weights)
    theirs = MMPoseJSDiscretLoss(use_target_weight=True)(pred, target, weights)
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    assert torch.allclose(KeypointJSDivergenceLoss(use_target_weight=False)(pred, target),
                          MMPoseJSDiscretLoss(use_target_weight=False)(pred, target), rtol=1e-5, atol=1e-7)


def test_float64_reference_and_bounds():
    pred, target, weights = (t.double() for t in _maps(3))
    loss = KeypointJSDivergenceLoss(loss_weight=2.0)(pred, target, weights)
    m = (pred + target) / 2
    kl = lambda p, q: torch.where(p > 0, p * torch.log(p / q), torch.zeros_like(p)).flatten(2).sum(-1)  # noqa
    expected = 2.0 * ((0.5 * (kl(pred, m) + kl(target, m))) * weights).sum() / 3
    assert torch.allclose(loss, expected, atol=1e-12)
    same = KeypointJSDivergenceLoss()(pred, pred, weights)
    assert same.abs() < 1e-12  # JS(p, p) = 0 ...
    assert loss / 2 <= torch.log(torch.tensor(2.0, dtype=torch.float64)) * weights.sum() / 3  # ... <= log 2


def test_gradient_finite_where_mmpose_gives_nan():
    pred, target, weights = _maps(4)
    pred[1, 2, 0, 0] = 0.0  # an underflowed softmax value
    for loss_type, finite in ((KeypointJSDivergenceLoss, True), (MMPoseJSDiscretLoss, False)):
        leaf = pred.clone().requires_grad_(True)
        loss_type(use_target_weight=True)(leaf, target, weights).backward()
        assert torch.isfinite(leaf.grad).all().item() == finite, loss_type
    leaf = pred.clone().requires_grad_(True)
    KeypointJSDivergenceLoss()(leaf, target, weights).backward()
    assert (leaf.grad[0, 1] == 0).all() and (leaf.grad[1, 0] != 0).any()


def test_errors():
    pred, target, weights = _maps(5)
    with pytest.raises(ValueError, match=r'must both be \(B, K, H, W\)'):
        KeypointJSDivergenceLoss()(pred[0], target[0], weights)
    with pytest.raises(ValueError, match=r'needs target_weights \(B, K\)'):
        KeypointJSDivergenceLoss()(pred, target)
