"""Keypoint-attention pooling (PARE): hand-computed pools, centres, several maps, no NaN without attention."""
import pytest
import torch

from pose_plugins.models.layers.keypoint_attention import keypoint_attention, keypoint_attention_pool


def test_a_single_positive_cell_pools_that_cells_features():
    """Attention on one cell of the first map: its pooled vector is that cell's features exactly (one weight of
    1), on the half-size map the features of the block holding it; the centre is the cell's pixel centre in
    [-1, 1]. A second keypoint with two equal cells averages them."""
    feats = (torch.randn(2, 3, 8, 8), torch.randn(2, 5, 4, 4))
    heatmaps = torch.full((2, 2, 8, 8), -0.3)  # negative everywhere else: no weight
    heatmaps[:, 0, 5, 2] = 0.7
    heatmaps[:, 1, 1, 1] = heatmaps[:, 1, 1, 6] = 0.4
    pooled, centre = keypoint_attention_pool(feats, heatmaps)
    assert pooled.shape == (2, 2, 8) and centre.shape == (2, 2, 2)
    torch.testing.assert_close(pooled[:, 0, :3], feats[0][:, :, 5, 2], rtol=0, atol=0)
    torch.testing.assert_close(pooled[:, 0, 3:], feats[1][:, :, 2, 1])
    torch.testing.assert_close(pooled[:, 1, :3], 0.5 * (feats[0][:, :, 1, 1] + feats[0][:, :, 1, 6]))
    torch.testing.assert_close(pooled[:, 1, 3:], 0.5 * (feats[1][:, :, 0, 0] + feats[1][:, :, 0, 3]))
    # pixel centre of column i on an 8-wide map: 2 (i + 0.5) / 8 - 1
    torch.testing.assert_close(centre[0, 0], torch.tensor([2 * 2.5 / 8 - 1, 2 * 5.5 / 8 - 1]))
    torch.testing.assert_close(centre[0, 1], torch.tensor([0.5 * ((2 * 1.5 / 8 - 1) + (2 * 6.5 / 8 - 1)),
                                                           2 * 1.5 / 8 - 1]))


def test_weights_are_the_normalised_positive_part_against_float64():
    heatmaps = torch.randn(3, 4, 6, 5)
    weights = keypoint_attention(heatmaps)
    reference = heatmaps.double().clamp_min(0).flatten(2)
    reference = reference / reference.sum(-1, keepdim=True)
    # float32 sums of 30 values: relative rounding ~30 * 2^-24 < 1e-5
    torch.testing.assert_close(weights.double(), reference, rtol=1e-5, atol=1e-7)
    feats = (torch.randn(3, 2, 6, 5), )
    pooled, _ = keypoint_attention_pool(feats, heatmaps)
    torch.testing.assert_close(pooled.double(), torch.einsum('bkn,bcn->bkc', reference, feats[0].double().flatten(2)),
                               rtol=1e-5, atol=1e-6)


def test_no_positive_value_pools_zeros_and_gradients_stay_finite():
    feats = (torch.randn(1, 3, 4, 4, requires_grad=True), )
    heatmaps = (-torch.rand(1, 2, 4, 4)).requires_grad_()
    pooled, centre = keypoint_attention_pool(feats, heatmaps)
    assert torch.equal(pooled, torch.zeros_like(pooled)) and torch.equal(centre, torch.zeros_like(centre))
    (pooled.sum() + centre.sum()).backward()
    assert torch.isfinite(heatmaps.grad).all() and torch.isfinite(feats[0].grad).all()


def test_bad_shapes_name_the_map():
    with pytest.raises(ValueError, match='feature map 1 is \\(16, 16\\), larger than the heatmaps'):
        keypoint_attention_pool((torch.randn(1, 2, 8, 8), torch.randn(1, 2, 16, 16)), torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match='feature map 0'):
        keypoint_attention_pool((torch.randn(2, 2, 8, 8), ), torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match='heatmaps must be \\(B, K, H, W\\)'):
        keypoint_attention(torch.randn(3, 8, 8))
