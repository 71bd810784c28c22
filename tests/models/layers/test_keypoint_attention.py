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


def _local_reference(heatmaps, radius):
    """Loops in float64: the positive values within ``radius`` of the argmax, their centre of mass in [-1, 1]."""
    hm = heatmaps.double()
    batch, keypoints, height, width = hm.shape
    out = torch.zeros(batch, keypoints, 2, dtype=torch.float64)
    for b in range(batch):
        for k in range(keypoints):
            row, col = divmod(int(hm[b, k].argmax()), width)
            total = sx = sy = 0.0
            for i in range(max(0, row - radius), min(height, row + radius + 1)):
                for j in range(max(0, col - radius), min(width, col + radius + 1)):
                    w = max(float(hm[b, k, i, j]), 0.0)
                    total += w
                    sx += w * (2 * (j + 0.5) / width - 1)
                    sy += w * (2 * (i + 0.5) / height - 1)
            out[b, k] = torch.tensor([sx / total, sy / total])
    return out


@pytest.mark.parametrize('radius', [0, 1, 2, 5])
def test_local_centres_against_a_float64_loop(radius):
    """Random maps (peaks at the border too): equal to the loop's centre of mass within the window; float32
    sums of at most 121 weights in [0, 4] times coordinates in [-1, 1]: rounding < 1e-5."""
    from pose_plugins.models.layers.keypoint_attention import local_centres
    gen = torch.Generator().manual_seed(radius)
    heatmaps = torch.randn(3, 5, 9, 7, generator=gen)
    heatmaps[0, 0, 0, 0] = heatmaps[1, 1, 8, 6] = 4.0  # maxima in corners: windows clipped by the map
    torch.testing.assert_close(local_centres(heatmaps, radius).double(), _local_reference(heatmaps, radius),
                               rtol=0, atol=1e-5)


def test_local_centres_ignore_a_second_mode_and_fall_back_to_the_argmax():
    """A peak with a weaker mode far away: the whole attention's centre is pulled toward the mode, the local one
    (radius 1) is the peak's own centre of mass; a map with no positive value gives the argmax cell's centre and
    finite gradients; bad arguments name the value."""
    from pose_plugins.models.layers.keypoint_attention import local_centres
    heatmaps = torch.full((1, 2, 8, 8), -0.5)
    heatmaps[0, 0, 2, 2], heatmaps[0, 0, 2, 3], heatmaps[0, 0, 7, 7] = 1.0, 1.0, 0.8
    heatmaps[0, 1, 4, 6] = -0.1  # the maximum, not positive
    heatmaps.requires_grad_()
    local = local_centres(heatmaps, 1)
    _, whole = keypoint_attention_pool((torch.randn(1, 1, 8, 8), ), heatmaps)
    torch.testing.assert_close(local[0, 0], torch.tensor([2 * 3.0 / 8 - 1, 2 * 2.5 / 8 - 1]))
    assert whole[0, 0, 0] > local[0, 0, 0] + 0.2 and whole[0, 0, 1] > local[0, 0, 1] + 0.2
    torch.testing.assert_close(local[0, 1], torch.tensor([2 * 6.5 / 8 - 1, 2 * 4.5 / 8 - 1]))
    local.sum().backward()
    assert torch.isfinite(heatmaps.grad).all()
    _, pooled_local = keypoint_attention_pool((torch.randn(1, 1, 8, 8), ), heatmaps, centre_radius=1)
    torch.testing.assert_close(pooled_local, local)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match='radius must be an int >= 0'):
            local_centres(heatmaps, bad)


def test_normalised_centres_forget_place_and_size():
    """Zero mean, unit RMS distance; the same for a shifted and scaled copy; coincident centres give zeros and
    finite gradients."""
    from pose_plugins.models.layers.keypoint_attention import normalise_centres
    centres = torch.rand(4, 17, 2) * 2 - 1
    normal = normalise_centres(centres)
    torch.testing.assert_close(normal.mean(1), torch.zeros(4, 2), rtol=0, atol=1e-6)
    torch.testing.assert_close(normal.pow(2).sum(2).mean(1), torch.ones(4))
    torch.testing.assert_close(normalise_centres(0.3 * centres + torch.tensor([0.2, -0.4])), normal)
    same = torch.full((1, 17, 2), 0.25, requires_grad=True)
    assert torch.equal(normalise_centres(same), torch.zeros(1, 17, 2))
    normalise_centres(same).sum().backward()
    assert torch.isfinite(same.grad).all()
    with pytest.raises(ValueError, match='centres must be \\(B, K, 2\\)'):
        normalise_centres(torch.zeros(17, 2))
