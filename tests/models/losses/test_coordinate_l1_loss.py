"""CoordinateL1Loss: parity with mmpose's L1Loss / SmoothL1Loss in 2D, the 3D formula of 3DMPPE, masks, errors."""
import pytest
import torch
from mmpose.models.losses import L1Loss as MMPoseL1Loss
from mmpose.models.losses import SmoothL1Loss as MMPoseSmoothL1Loss

from pose_plugins.models.losses import CoordinateL1Loss


def _data(seed, d=2, b=3, k=5):
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(b, k, d, generator=gen), torch.rand(b, k, d, generator=gen),
            torch.randint(0, 2, (b, k), generator=gen).float(), torch.rand(b, k, generator=gen))


@pytest.mark.parametrize('seed', [0, 1])
def test_2d_equals_mmpose(seed):
    pred, target, binary, soft = _data(seed)
    for weights in (binary, soft):
        assert torch.equal(CoordinateL1Loss()(pred, target, weights),
                           MMPoseL1Loss(use_target_weight=True)(pred, target, weights))
        assert torch.equal(CoordinateL1Loss(smooth_l1_beta=1.0, loss_weight=2.0)(pred, target, weights),
                           MMPoseSmoothL1Loss(use_target_weight=True, loss_weight=2.0)(pred, target, weights))
    assert torch.equal(CoordinateL1Loss(use_target_weight=False)(pred, target, binary),
                       MMPoseL1Loss()(pred, target))


def test_3d_equals_3dmppe_formula_in_float64():
    pred, target, vis, _ = (t.double() for t in _data(2, d=3))
    has_depth = torch.tensor([1.0, 0.0, 1.0]).double()[:, None].expand(3, 5)
    loss = CoordinateL1Loss()(pred, target, vis, has_depth)
    diff = (pred - target).abs() * vis[..., None]
    expected = ((diff[..., 0] + diff[..., 1] + diff[..., 2] * has_depth) / 3.0).mean()  # 3DMPPE PoseNet
    assert torch.allclose(loss, expected, atol=1e-12)


def test_masked_elements_do_not_matter_and_gradients_flow():
    pred, target, _, _ = _data(3, d=3)
    vis = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0]] * 3)
    depth = torch.tensor([[1.0, 1.0, 0.0, 1.0, 1.0]] * 3)
    pred.requires_grad_(True)
    loss = CoordinateL1Loss()(pred, target, vis, depth)
    changed = target.clone()
    changed[:, 1] += 5.0  # invisible keypoint
    changed[:, 2, 2] -= 7.0  # z of a keypoint without depth
    assert torch.equal(loss, CoordinateL1Loss()(pred, changed, vis, depth))
    loss.backward()
    assert (pred.grad[:, 1] == 0).all() and (pred.grad[:, 2, 2] == 0).all() and (pred.grad[:, 0] != 0).all()


@pytest.mark.parametrize('args, kwargs, match', [
    ((torch.zeros(2, 3, 2), torch.zeros(2, 3, 3)), {}, r'must both be \(B, K, 2\) or \(B, K, 3\)'),
    ((torch.zeros(2, 3, 2), torch.zeros(2, 3, 2)), {}, 'needs target_weights'),
    ((torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.ones(2, 4)), {}, r'target_weights must be \(B, K\)'),
    ((torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.ones(2, 3), torch.ones(2, 3)), {},
     'only meaningful for 3D'),
])
def test_bad_inputs(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        CoordinateL1Loss(**kwargs)(*args)


def test_bad_beta():
    with pytest.raises(ValueError, match='smooth_l1_beta must be > 0'):
        CoordinateL1Loss(smooth_l1_beta=0.0)
