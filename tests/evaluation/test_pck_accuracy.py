"""``acc_pose`` on the device equals mmpose's numpy ``pose_pck_accuracy`` / ``keypoint_pck_accuracy``."""
import numpy as np
import pytest
import torch
from mmpose.codecs.utils import get_heatmap_maximum
from mmpose.evaluation.functional import keypoint_pck_accuracy as mmpose_keypoint_pck
from mmpose.evaluation.functional import pose_pck_accuracy as mmpose_pose_pck

from pose_plugins.evaluation.pck_accuracy import heatmap_maximum, keypoint_pck_accuracy, pose_pck_accuracy

# Both sides count the same integers (hits and valid instances per keypoint) and divide in float64; only the order
# of the final mean's float64 sum over K <= 17 terms may differ: <= 17 * 2**-53 relative, i.e. < 1e-14 absolute.
MEAN_ATOL = 1e-14


def near_peaked_heatmaps(rng: np.random.Generator, n: int, k: int, h: int, w: int) -> tuple:
    """Target maps with one peak each and predictions whose peak lies 0-6 px from it (so PCK@0.05 of a 64x48 map
    is neither 0 nor 1), with ties, all-negative maps and flat zero maps mixed in."""
    target = rng.random((n, k, h, w)).astype(np.float32) * 0.1
    pred = rng.random((n, k, h, w)).astype(np.float32) * 0.1
    ys, xs = rng.integers(0, h, (n, k)), rng.integers(0, w, (n, k))
    target[np.arange(n)[:, None], np.arange(k), ys, xs] = 1.0
    py = np.clip(ys + rng.integers(-6, 7, (n, k)), 0, h - 1)
    px = np.clip(xs + rng.integers(-6, 7, (n, k)), 0, w - 1)
    pred[np.arange(n)[:, None], np.arange(k), py, px] = 1.0
    pred[0, 0] = 0.0  # flat: argmax 0 but max <= 0 -> (-1, -1)
    pred[0, 1] *= -1.0  # all negative
    pred[1, 2, 3, 4] = pred[1, 2, 5, 6] = 2.0  # a tie: the first maximum in row-major order
    return pred, target


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('size', [(64, 48), (56, 56), (16, 12)], ids=['64x48', '56x56', '16x12'])
def test_pose_pck_accuracy_equals_mmpose(seed, size):
    rng = np.random.default_rng(seed)
    h, w = size
    pred, target = near_peaked_heatmaps(rng, 9, 17, h, w)
    mask = rng.random((9, 17)) > 0.3
    mask[:, 5] = False  # a keypoint without any valid instance is left out of the mean
    _, expected, _ = mmpose_pose_pck(pred, target, mask.copy(), thr=0.05)
    actual = pose_pck_accuracy(torch.from_numpy(pred), torch.from_numpy(target), torch.from_numpy(mask), 0.05)
    assert actual.dtype == torch.float64 and actual.shape == ()
    assert 0.0 < expected < 1.0  # the case discriminates
    assert abs(actual.item() - expected) <= MEAN_ATOL


def test_heatmap_maximum_equals_mmpose_including_ties_and_non_positive_maps():
    pred, _ = near_peaked_heatmaps(np.random.default_rng(3), 4, 17, 64, 48)
    locs, vals = get_heatmap_maximum(pred)
    ours_locs, ours_vals = heatmap_maximum(torch.from_numpy(pred))
    np.testing.assert_array_equal(ours_locs.numpy(), locs)
    np.testing.assert_array_equal(ours_vals.numpy(), vals)
    assert ours_locs[0, 0].tolist() == [-1.0, -1.0] and ours_locs[1, 2].tolist() == [4.0, 3.0]


@pytest.mark.parametrize('seed', [0, 1])
def test_keypoint_pck_accuracy_equals_mmpose_on_coordinates(seed):
    """The coordinate heads' path: normalised (x, y) with unit norm factors in float32."""
    rng = np.random.default_rng(seed)
    gt = rng.random((12, 17, 2)).astype(np.float32)
    pred = (gt + rng.normal(0, 0.04, gt.shape)).astype(np.float32)
    mask = rng.random((12, 17)) > 0.2
    norm = np.ones((12, 2), dtype=np.float32)
    _, expected, _ = mmpose_keypoint_pck(pred, gt, mask.copy(), 0.05, norm.copy())
    actual = keypoint_pck_accuracy(torch.from_numpy(pred), torch.from_numpy(gt), torch.from_numpy(mask), 0.05,
                                   torch.from_numpy(norm))
    assert 0.0 < expected < 1.0
    assert abs(actual.item() - expected) <= MEAN_ATOL


def test_no_valid_keypoint_gives_zero_and_zero_norm_drops_the_instance():
    pred = torch.zeros(3, 4, 2)
    gt = torch.zeros(3, 4, 2)
    assert keypoint_pck_accuracy(pred, gt, torch.zeros(3, 4, dtype=torch.bool), 0.05, torch.ones(3, 2)).item() == 0
    far = gt.clone()
    far[0] = 10.0  # instance 0 is far off but its norm factor is 0: not counted
    norm = torch.ones(3, 2)
    norm[0, 1] = 0
    assert keypoint_pck_accuracy(far, gt, torch.ones(3, 4, dtype=torch.bool), 0.05, norm).item() == 1.0
    _, expected, _ = mmpose_keypoint_pck(far.numpy(), gt.numpy(), np.ones((3, 4), bool), 0.05, norm.numpy().copy())
    assert expected == 1.0


def test_head_accuracy_reads_nothing_back_to_the_host(monkeypatch):
    """``BasePoseHead.accuracy`` never converts to numpy or Python numbers (which on a GPU waits for the device)."""
    from pose_plugins.models.heads import HeatmapHead

    def refuse(*args, **kwargs):
        raise AssertionError('a host read inside the training step')

    head = HeatmapHead(in_channels=4, out_channels=17, deconv_out_channels=None,
                       loss=dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True))
    pred, target = near_peaked_heatmaps(np.random.default_rng(4), 5, 17, 16, 12)
    targets = dict(heatmaps=torch.from_numpy(target), keypoint_weights=torch.ones(5, 17))
    expected = mmpose_pose_pck(pred, target, np.ones((5, 17), bool), thr=0.05)[1]
    for name in ('numpy', 'item', 'tolist', '__float__', '__int__', '__bool__'):
        monkeypatch.setattr(torch.Tensor, name, refuse)
    acc = head.accuracy(torch.from_numpy(pred), targets)
    monkeypatch.undo()
    assert abs(acc.item() - expected) <= MEAN_ATOL
