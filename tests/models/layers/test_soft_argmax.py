"""SoftArgmax: known peaks in 2D and 3D, debias against the closed form and on a zero-background map, errors."""
import pytest
import torch

from pose_plugins.models.layers.soft_argmax import SoftArgmax


def _peaked(shape, peaks, value=30.0):
    """Logits zero everywhere but ``value`` at each (k, d, y, x) in ``peaks``: (1, K, D, H, W)."""
    logits = torch.zeros((1, ) + shape)
    for k, d, y, x in peaks:
        logits[0, k, d, y, x] = value
    return logits


@pytest.mark.parametrize('depth', [1, 8], ids=['2d', '3d'])
def test_sharp_peak_gives_its_location(depth):
    module = SoftArgmax(map_size=(depth, 16, 12))
    peaks = [(0, depth - 1, 5, 7), (1, 0, 0, 0), (2, depth // 2, 15, 11)]
    coords, probs = module(_peaked((3, depth, 16, 12), peaks))
    for k, d, y, x in peaks:
        expected = [x / 12, y / 16] + ([d / depth] if depth > 1 else [])
        assert coords[0, k].tolist() == pytest.approx(expected, abs=1e-4)
    assert coords.shape == (1, 3, 3 if depth > 1 else 2)
    assert torch.allclose(probs.flatten(2).sum(-1), torch.ones(1, 3))


def test_symmetric_blob_gives_its_centre_in_3d():
    """A float64 Gaussian volume centred between grid points: the expectation is the centre to 1e-4."""
    d, h, w = 10, 20, 16
    centre = torch.tensor([6.5, 8.25, 4.0], dtype=torch.float64)  # x, y, z in grid units
    zz, yy, xx = torch.meshgrid(torch.arange(d), torch.arange(h), torch.arange(w), indexing='ij')
    grid = torch.stack([xx, yy, zz], -1).double()
    logits = -((grid - centre)**2).sum(-1) / (2 * 1.2**2)
    coords, _ = SoftArgmax(map_size=(d, h, w)).double()(logits[None, None])
    assert coords[0, 0].tolist() == pytest.approx((centre / torch.tensor([w, h, d])).tolist(), abs=1e-4)


def test_channel_layout_is_keypoint_major():
    """(B, K * D, H, W): channel k * D + d is keypoint k's depth bin d (3DMPPE's reshape)."""
    depth = 4
    flat = torch.zeros(1, 2 * depth, 6, 5)
    flat[0, 1 * depth + 3, 2, 1] = 40.0
    coords, _ = SoftArgmax(map_size=(depth, 6, 5))(flat)
    assert coords[0, 1].tolist() == pytest.approx([1 / 5, 2 / 6, 3 / 4], abs=1e-4)


def test_beta_sharpens():
    logits = _peaked((1, 1, 8, 8), [(0, 0, 2, 6)], value=1.0)
    soft, _ = SoftArgmax(map_size=(1, 8, 8), beta=1.0)(logits)
    sharp, _ = SoftArgmax(map_size=(1, 8, 8), beta=50.0)(logits)
    target = torch.tensor([6 / 8, 2 / 8])
    assert (sharp[0, 0] - target).abs().max() < 1e-4 < (soft[0, 0] - target).abs().max()


def test_debias_equals_gu_closed_form_for_nonnegative_logits():
    gen = torch.Generator().manual_seed(0)
    logits = torch.rand(3, 5, 2, 9, 7, generator=gen, dtype=torch.float64) * 3
    beta = 1.5
    plain, _ = SoftArgmax(map_size=(2, 9, 7), beta=beta).double()(logits)
    debiased, _ = SoftArgmax(map_size=(2, 9, 7), beta=beta, debias=True).double()(logits)
    c = torch.exp(beta * logits).flatten(2).mean(-1, keepdim=True)
    uniform = torch.tensor([3 / 7, 4 / 9, 1 / 4], dtype=torch.float64)  # mean of i / S, i < S
    assert torch.allclose(debiased, c / (c - 1) * (plain - uniform / c), atol=1e-10)


def test_debias_recovers_peak_on_zero_background_where_plain_is_biased():
    logits = torch.zeros(1, 1, 1, 32, 32)
    logits[0, 0, 0, 3:6, 25:28] = 2.0  # a 3x3 plateau centred at (26, 4), logits 0 elsewhere
    plain, _ = SoftArgmax(map_size=(1, 32, 32))(logits)
    debiased, _ = SoftArgmax(map_size=(1, 32, 32), debias=True)(logits)
    target = torch.tensor([26 / 32, 4 / 32])
    assert (debiased[0, 0] - target).abs().max() < 1e-5
    assert (plain[0, 0] - target).abs().max() > 0.1  # pulled toward the centre


def test_debias_is_finite_at_initialisation_and_on_negative_logits():
    module = SoftArgmax(map_size=(1, 8, 8), debias=True)
    for logits in (torch.zeros(1, 2, 8, 8), -torch.rand(1, 2, 8, 8), torch.full((1, 2, 8, 8), 200.0)):
        logits.requires_grad_(True)
        coords, _ = module(logits)
        coords.sum().backward()
        assert torch.isfinite(coords).all() and torch.isfinite(logits.grad).all()


def test_gradients_flow_to_every_location():
    logits = torch.randn(2, 3 * 4, 5, 6, requires_grad=True)
    coords, _ = SoftArgmax(map_size=(4, 5, 6))(logits)
    coords.sum().backward()
    assert (logits.grad != 0).float().mean() > 0.99


def test_grids_are_non_persistent_buffers():
    module = SoftArgmax(map_size=(3, 4, 5))
    assert not list(module.parameters()) and not module.state_dict()
    assert {name for name, _ in module.named_buffers()} == {'grid_x', 'grid_y', 'grid_z'}
    assert module.double().grid_x.dtype == torch.float64


@pytest.mark.parametrize('kwargs, match', [
    (dict(map_size=(4, 5)), 'map_size must be 3 positive ints'),
    (dict(map_size=(1, 0, 5)), 'map_size must be 3 positive ints'),
    (dict(map_size=(1, 4, 5), beta=0.0), 'beta must be > 0'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SoftArgmax(**kwargs)


def test_logits_of_the_wrong_size():
    with pytest.raises(ValueError, match=r'do not fit map_size'):
        SoftArgmax(map_size=(2, 4, 5))(torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match=r'do not fit map_size'):
        SoftArgmax(map_size=(1, 4, 5))(torch.zeros(1, 3, 5, 4))
