"""Tests of :class:`pose_plugins.codecs.msra_heatmap.MSRAHeatmap` and its helpers, with parity against mmpose."""
import math
from typing import Dict, Tuple

import numpy as np
import pytest
import torch
from mmpose.codecs import MSRAHeatmap as MMPoseMSRAHeatmap
from mmpose.codecs.utils import generate_gaussian_heatmaps as mmpose_generate_gaussian_heatmaps
from mmpose.codecs.utils import \
    generate_unbiased_gaussian_heatmaps as mmpose_generate_unbiased_gaussian_heatmaps

from pose_plugins.codecs.msra_heatmap import MSRAHeatmap
from pose_plugins.codecs.utils import dark_blur_kernel, modulate_heatmaps

# Small maps: input 48x64, heatmap 12x16, stride 4 in both directions.
INPUT_SIZE = (48, 64)
HEATMAP_SIZE = (12, 16)
STRIDE = 4.0
K = 7


def _codecs(unbiased: bool, sigma: float = 2.0) -> Tuple[MSRAHeatmap, MMPoseMSRAHeatmap]:
    cfg = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=sigma, unbiased=unbiased)
    return MSRAHeatmap(**cfg), MMPoseMSRAHeatmap(**cfg)


def _edge_case_keypoints(seed: int, n: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """(n, K, 2) keypoints in input pixels mixing the inside, the border, just outside, far outside, and
    visibilities 0 / 0.3 / 0.5 / 1 / 2."""
    rng = np.random.default_rng(seed)
    w, h = INPUT_SIZE
    keypoints = rng.uniform(-0.3 * w, 1.3 * w, size=(n, K, 2))
    keypoints[..., 1] *= h / w
    # exactly on the border of the image and of the heatmap grid, in x and y
    specials = np.array([0.0, w - 1.0, float(w), -1.0, -STRIDE / 2, w - STRIDE / 2, -30.0, w + 30.0])
    keypoints[:, 0, 0] = rng.choice(specials, size=n)
    keypoints[:, 1, 1] = rng.choice(specials * h / w, size=n)
    keypoints[:, 2] = np.round(keypoints[:, 2])  # integer coordinates
    visible = rng.choice(np.array([0.0, 0.3, 0.5, 1.0, 2.0], dtype=np.float32), size=(n, K))
    visible[:, :2] = 1.0
    return keypoints, visible


# ------------------------------------------------------------------------------------------------- encode parity


@pytest.mark.parametrize('unbiased', [False, True], ids=['msra', 'dark'])
@pytest.mark.parametrize('sigma', [2.0, 1.5, 3, 0.7], ids=['sigma2', 'sigma1.5', 'sigma3int', 'sigma0.7'])
@pytest.mark.parametrize('seed', range(6))
def test_encode_equals_mmpose(unbiased: bool, sigma: float, seed: int) -> None:
    ours, theirs = _codecs(unbiased, sigma)
    keypoints, visible = _edge_case_keypoints(seed)
    if seed % 2:
        keypoints = keypoints.astype(np.float32)
    got = ours.encode(keypoints, visible)
    want = theirs.encode(keypoints, visible)
    assert got['heatmaps'].dtype == np.float32 and got['heatmaps'].shape == (K, 16, 12)
    assert got['keypoint_weights'].dtype == np.float32 and got['keypoint_weights'].shape == (1, K)
    np.testing.assert_array_equal(got['heatmaps'], want['heatmaps'])
    np.testing.assert_array_equal(got['keypoint_weights'], want['keypoint_weights'].astype(np.float32))


@pytest.mark.parametrize('unbiased', [False, True], ids=['msra', 'dark'])
def test_encode_without_visibility_equals_mmpose(unbiased: bool) -> None:
    ours, theirs = _codecs(unbiased)
    keypoints, _ = _edge_case_keypoints(seed=11)
    got, want = ours.encode(keypoints), theirs.encode(keypoints)
    np.testing.assert_array_equal(got['heatmaps'], want['heatmaps'])
    np.testing.assert_array_equal(got['keypoint_weights'], want['keypoint_weights'])


@pytest.mark.parametrize('unbiased', [False, True], ids=['msra', 'dark'])
@pytest.mark.parametrize('seed', range(3))
def test_encode_several_instances_equals_mmpose_generator(unbiased: bool, seed: int) -> None:
    """mmpose's codec asserts N == 1; its generators (and ours) take N instances and combine them with max."""
    ours, theirs = _codecs(unbiased)
    keypoints, visible = _edge_case_keypoints(seed, n=3)
    with pytest.raises(AssertionError):
        theirs.encode(keypoints, visible)
    generate = mmpose_generate_unbiased_gaussian_heatmaps if unbiased else mmpose_generate_gaussian_heatmaps
    want_heatmaps, want_weights = generate(HEATMAP_SIZE, keypoints / theirs.scale_factor, visible, 2.0)
    got = ours.encode(keypoints, visible)
    np.testing.assert_array_equal(got['heatmaps'], want_heatmaps)
    np.testing.assert_array_equal(got['keypoint_weights'], want_weights)
    # and the combination is the element-wise max of the single-instance targets
    singles = np.stack([ours.encode(keypoints[n:n + 1], visible[n:n + 1])['heatmaps'] for n in range(3)])
    np.testing.assert_array_equal(got['heatmaps'], singles.max(axis=0))


# ------------------------------------------------------------------------------------------- hand-computed values


def test_encode_hand_computed_values() -> None:
    sigma = 2.0
    codec = MSRAHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=sigma)
    # heatmap location (5.4, 7.5) -> mu = (int(5.9), int(8.0)) = (5, 8)
    keypoints = np.array([[[5.4 * STRIDE, 7.5 * STRIDE], [3.0, 3.0], [-40.0, 10.0]]])
    encoded = codec.encode(keypoints, np.array([[1.0, 0.0, 1.0]]))
    heatmap = encoded['heatmaps'][0]
    assert heatmap[8, 5] == 1.0
    assert heatmap.max() == 1.0 and np.argwhere(heatmap == 1.0).tolist() == [[8, 5]]
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        assert heatmap[8 + dy, 5 + dx] == pytest.approx(math.exp(-1 / (2 * sigma**2)), rel=1e-6)
    assert heatmap[9, 6] == pytest.approx(math.exp(-2 / (2 * sigma**2)), rel=1e-6)
    # the window is 3 sigma = 6 pixels each way: its last row is in, the next pixel (row 15 = 8 + 7) is zero.
    assert heatmap[14, 5] == pytest.approx(math.exp(-36 / (2 * sigma**2)), rel=1e-6)
    assert heatmap[15, 5] == 0.0
    nonzero_rows, nonzero_cols = np.nonzero(heatmap)
    assert (nonzero_rows.min(), nonzero_rows.max(), nonzero_cols.min(), nonzero_cols.max()) == (2, 15 - 1, 0, 11)
    # invisible keypoint: empty map, weight 0; keypoint whose window misses the map: empty map, weight 0
    assert not encoded['heatmaps'][1].any() and not encoded['heatmaps'][2].any()
    np.testing.assert_array_equal(encoded['keypoint_weights'], [[1.0, 0.0, 0.0]])


def test_encode_window_far_from_border_has_13x13_support() -> None:
    codec = MSRAHeatmap(input_size=(128, 128), heatmap_size=(32, 32), sigma=2.0)
    encoded = codec.encode(np.array([[[16.2 * 4, 15.9 * 4]]]))
    assert np.count_nonzero(encoded['heatmaps'][0]) == 13 * 13
    assert encoded['heatmaps'][0][16, 16] == 1.0


def test_encode_unbiased_is_centred_at_sub_pixel_location() -> None:
    sigma = 2.0
    codec = MSRAHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=sigma, unbiased=True)
    mx, my = 5.3, 7.6
    heatmap = codec.encode(np.array([[[mx * STRIDE, my * STRIDE]]]))['heatmaps'][0]
    ys, xs = np.mgrid[0:16, 0:12]
    want = np.exp(-((xs - mx)**2 + (ys - my)**2) / (2 * sigma**2))
    np.testing.assert_allclose(heatmap, want, rtol=1e-6, atol=1e-12)
    assert heatmap.max() < 1.0  # no pixel sits exactly on the keypoint


# ------------------------------------------------------------------------------------------------- decode parity


def _noisy_heatmaps(seed: int, unbiased: bool) -> np.ndarray:
    """Realistic (K, H, W) predictions: targets plus noise, with some all-zero maps, ties and border maxima."""
    rng = np.random.default_rng(seed)
    keypoints, _ = _edge_case_keypoints(seed)
    heatmaps = MSRAHeatmap(
        input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2.0, unbiased=unbiased).encode(keypoints)['heatmaps']
    heatmaps = heatmaps + rng.normal(0.0, 0.05, size=heatmaps.shape).astype(np.float32)
    heatmaps[3] = 0.0  # max <= 0: location (-1, -1)
    heatmaps[4] = np.round(heatmaps[4], 1)  # ties: the first maximum in row-major order wins
    y, x = rng.choice([0, 1, 2, 13, 14, 15]), rng.choice([0, 1, 2, 9, 10, 11])
    heatmaps[5, y, x] = 2.0  # maximum on or next to the border
    heatmaps[6] = -np.abs(heatmaps[6])  # all negative
    return heatmaps


@pytest.mark.parametrize('seed', range(8))
def test_decode_equals_mmpose(seed: int) -> None:
    ours, theirs = _codecs(unbiased=False)
    heatmaps = _noisy_heatmaps(seed, unbiased=False)
    keypoints, scores = ours.decode(heatmaps)
    want_keypoints, want_scores = theirs.decode(heatmaps)
    assert keypoints.shape == (1, K, 2) and keypoints.dtype == np.float32 and scores.shape == (1, K)
    np.testing.assert_array_equal(keypoints, want_keypoints)
    np.testing.assert_array_equal(scores, want_scores)


def _dark_step_bound(heatmaps: np.ndarray, blur_kernel_size: int) -> np.ndarray:
    """Per keypoint, a bound on the float32 rounding difference of two correct DARK implementations, in input px.

    DARK moves the integer maximum by ``-H^-1 g``, where g and H are finite differences of the log of the
    modulated map at the maximum. Both implementations compute the blur sums (``blur_kernel_size^2`` float32
    products, relative error <= ``k^2 * 2^-24``, i.e. 7e-6 for k = 17) and logs in float32, so every log value
    is off by at most ``delta = 1e-5`` (with margin), and so are g and H (differences of logs with weights
    <= 1). To first order the step then moves by ``||H^-1|| * delta * (c_g + c_H * |step|)`` with c_g, c_H <= 4
    (the stencil weights' sums); computed here from a float64 evaluation at mmpose's maxima, times the stride.
    """
    maps = torch.from_numpy(heatmaps.astype(np.float64))[None]
    modulated = modulate_heatmaps(maps, blur_kernel_size)[0].clamp(min=1e-10).log().numpy()  # (K, H, W)
    delta = 1e-5
    bounds = np.zeros(heatmaps.shape[0])
    for k, log_map in enumerate(modulated):  # a handful of keypoints: a plain loop keeps the reference obvious
        y, x = np.unravel_index(np.argmax(heatmaps[k]), heatmaps[k].shape)
        if heatmaps[k].max() <= 0 or not (1 < x < log_map.shape[1] - 2 and 1 < y < log_map.shape[0] - 2):
            continue  # not refined by either: exactly equal
        g = 0.5 * np.array([log_map[y, x + 1] - log_map[y, x - 1], log_map[y + 1, x] - log_map[y - 1, x]])
        dxx = 0.25 * (log_map[y, x + 2] - 2 * log_map[y, x] + log_map[y, x - 2])
        dyy = 0.25 * (log_map[y + 2, x] - 2 * log_map[y, x] + log_map[y - 2, x])
        dxy = 0.25 * (log_map[y + 1, x + 1] - log_map[y - 1, x + 1] - log_map[y + 1, x - 1]
                      + log_map[y - 1, x - 1])
        hessian = np.array([[dxx, dxy], [dxy, dyy]])
        smallest = np.abs(np.linalg.eigvalsh(hessian)).min()
        if smallest == 0:  # singular: neither moves the keypoint
            continue
        step = np.linalg.norm(g) / smallest
        bounds[k] = delta * 4 * (1 + step) / smallest
    return bounds[None] * STRIDE


@pytest.mark.parametrize('blur_kernel_size', [11, 7, 17])
@pytest.mark.parametrize('seed', range(6))
def test_decode_unbiased_equals_mmpose(seed: int, blur_kernel_size: int) -> None:
    cfg = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2.0, unbiased=True,
               blur_kernel_size=blur_kernel_size)
    ours, theirs = MSRAHeatmap(**cfg), MMPoseMSRAHeatmap(**cfg)
    heatmaps = _noisy_heatmaps(seed, unbiased=True)
    with np.errstate(invalid='ignore'):  # mmpose divides 0 / 0 on the all-zero map
        want_keypoints, want_scores = theirs.decode(heatmaps)
    keypoints, scores = ours.decode(heatmaps)
    # float32 rounding only: bounded per keypoint by the analysis of _dark_step_bound (noisy maps can have
    # ill-conditioned Hessians, where any float32 implementation's step is sensitive), and never above 1e-3 px
    bound = np.minimum(np.maximum(_dark_step_bound(heatmaps, blur_kernel_size), 1e-5), 1e-3)
    assert (np.abs(keypoints - want_keypoints).max(-1) <= bound).all(), (keypoints, want_keypoints, bound)
    np.testing.assert_array_equal(scores, want_scores)


@pytest.mark.parametrize('seed', range(3))
def test_batch_decode_equals_mmpose_on_predicted_maps(seed: int) -> None:
    """What a trained model outputs (targets at random sub-pixel keypoints, small noise), a batch of 16 with
    DARK: mmpose's per-sample loop and our one batched call agree within 1e-3 input px (the acceptance figure;
    the analysis bound of _dark_step_bound is ~1e-4 px for such well-conditioned peaks)."""
    rng = np.random.default_rng(seed)
    cfg = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2.0, unbiased=True)
    ours, theirs = MSRAHeatmap(**cfg), MMPoseMSRAHeatmap(**cfg)
    keypoints = rng.uniform([2, 2], [INPUT_SIZE[0] - 3, INPUT_SIZE[1] - 3], size=(16, K, 2))
    batch = np.stack([ours.encode(kpts[None])['heatmaps'] for kpts in keypoints])
    batch = (batch * rng.uniform(0.3, 1.0, size=(16, K, 1, 1)) + rng.normal(0, 0.01, batch.shape)).astype(np.float32)
    got_keypoints, got_scores = ours.batch_decode(torch.from_numpy(batch))
    for b in range(16):
        want_keypoints, want_scores = theirs.decode(batch[b])
        np.testing.assert_allclose(got_keypoints[b], want_keypoints, rtol=0, atol=1e-3)
        np.testing.assert_array_equal(got_scores[b], want_scores)


def test_decode_does_not_modify_input() -> None:
    heatmaps = _noisy_heatmaps(0, unbiased=True)
    copy = heatmaps.copy()
    for unbiased in (False, True):
        _codecs(unbiased)[0].decode(heatmaps)
    np.testing.assert_array_equal(heatmaps, copy)


@pytest.mark.parametrize('kernel_size', [1, 3, 5, 7, 9, 11, 17])
def test_dark_blur_kernel_is_opencv_kernel(kernel_size: int) -> None:
    cv2 = pytest.importorskip('cv2')
    np.testing.assert_array_equal(dark_blur_kernel(kernel_size),
                                  cv2.getGaussianKernel(kernel_size, 0, ktype=cv2.CV_32F).reshape(-1))


def test_modulation_equals_mmpose_gaussian_blur() -> None:
    from mmpose.codecs.utils import gaussian_blur
    heatmaps = np.abs(_noisy_heatmaps(1, unbiased=True))
    got = modulate_heatmaps(torch.from_numpy(heatmaps)[None], 11)[0].numpy()
    with np.errstate(invalid='ignore'):  # mmpose divides 0 / 0 on the all-zero map (NaN in both)
        want = gaussian_blur(heatmaps.copy(), 11)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize('seed', range(4))
def test_round_trip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # inside the map, at least 3 heatmap pixels from the border so DARK's modulation is unaffected by the edge
    keypoints = np.stack([rng.uniform(3, 8, size=K), rng.uniform(3, 12, size=K)], axis=-1)[None] * STRIDE
    plain, dark = _codecs(unbiased=False)[0], _codecs(unbiased=True)[0]

    decoded, scores = plain.decode(plain.encode(keypoints)['heatmaps'])
    # MSRA: the peak sits on the rounded pixel with equal neighbours, so no quarter shift: error <= stride / 2
    np.testing.assert_array_equal(decoded, np.floor(keypoints / STRIDE + 0.5) * STRIDE)
    assert np.abs(decoded - keypoints).max() <= STRIDE / 2 + 1e-9
    np.testing.assert_array_equal(scores, np.ones((1, K)))

    decoded, scores = dark.decode(dark.encode(keypoints)['heatmaps'])
    # DARK: sub-pixel accurate
    assert np.abs(decoded - keypoints).max() < STRIDE / 10  # observed <= 0.05 heatmap px (edge effects)
    assert (scores > 0.88).all()


def test_quarter_offset_moves_toward_higher_neighbour() -> None:
    codec = _codecs(unbiased=False)[0]
    heatmaps = np.zeros((1, 16, 12), dtype=np.float32)
    heatmaps[0, 8, 5], heatmaps[0, 8, 6], heatmaps[0, 7, 5] = 1.0, 0.6, 0.5  # higher right and higher above
    keypoints, scores = codec.decode(heatmaps)
    np.testing.assert_array_equal(keypoints, [[[5.25 * STRIDE, 7.75 * STRIDE]]])
    np.testing.assert_array_equal(scores, [[1.0]])


# --------------------------------------------------------------------------------------------------- batch decode


@pytest.mark.parametrize('unbiased', [False, True], ids=['msra', 'dark'])
def test_batch_decode_equals_decode(unbiased: bool) -> None:
    codec = _codecs(unbiased)[0]
    batch = np.stack([_noisy_heatmaps(seed, unbiased) for seed in range(3)])  # (B, K, H, W)
    keypoints, scores = codec.batch_decode(torch.from_numpy(batch))
    assert isinstance(keypoints, np.ndarray) and keypoints.shape == (3, 1, K, 2) and scores.shape == (3, 1, K)
    tensor_keypoints, tensor_scores = codec.decode_tensor(torch.from_numpy(batch))
    assert isinstance(tensor_keypoints, torch.Tensor) and tensor_keypoints.shape == (3, K, 2)
    for b in range(3):
        want_keypoints, want_scores = codec.decode(batch[b])
        # the same code on the same maps, batched or not: identical
        np.testing.assert_array_equal(keypoints[b], want_keypoints)
        np.testing.assert_array_equal(scores[b], want_scores)
        np.testing.assert_array_equal(tensor_keypoints[b].numpy(), want_keypoints[0])


def test_batch_decode_ignores_autograd() -> None:
    codec = _codecs(unbiased=True)[0]
    heatmaps = torch.from_numpy(_noisy_heatmaps(2, unbiased=True))[None].requires_grad_()
    keypoints, scores = codec.decode_tensor(heatmaps)
    assert not keypoints.requires_grad and not scores.requires_grad
    assert codec.batch_decode(heatmaps)[0].shape == (1, 1, K, 2)


def test_mmpose_head_decodes_a_batch_in_one_call(monkeypatch) -> None:
    """mmpose's BaseHead.decode takes the batched path (support_batch_decoding) and gets per-sample numpy
    (1, K, 2) arrays equal to the per-sample decode; the per-sample decode is never called."""
    from mmpose.models.heads import HeatmapHead
    codec_cfg = dict(type='pose_plugins.MSRAHeatmap', input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2.0)
    head = HeatmapHead(in_channels=K, out_channels=K, deconv_out_channels=None, decoder=codec_cfg)
    assert isinstance(head.decoder, MSRAHeatmap) and head.decoder.support_batch_decoding
    batch = np.stack([_noisy_heatmaps(seed, False) for seed in range(2)])
    want = [head.decoder.decode(heatmaps) for heatmaps in batch]
    monkeypatch.setattr(MSRAHeatmap, 'decode', lambda *args: pytest.fail('per-sample decode called'))
    preds = head.decode(torch.from_numpy(batch))
    assert len(preds) == 2
    for (want_keypoints, want_scores), pred in zip(want, preds):
        assert isinstance(pred.keypoints, np.ndarray)
        np.testing.assert_array_equal(pred.keypoints, want_keypoints)
        np.testing.assert_array_equal(pred.keypoint_scores, want_scores)


# ------------------------------------------------------------------------------------- registry and mmpose pipeline


def test_registry_and_generate_target() -> None:
    from mmengine.registry import DefaultScope
    from mmpose.datasets.transforms import GenerateTarget
    from mmpose.registry import KEYPOINT_CODECS as MMPOSE_KEYPOINT_CODECS

    cfg: Dict = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2.0)
    with DefaultScope.overwrite_default_scope('mmpose'):
        assert type(MMPOSE_KEYPOINT_CODECS.build(dict(type='pose_plugins.MSRAHeatmap', **cfg))) is MSRAHeatmap
        assert type(MMPOSE_KEYPOINT_CODECS.build(dict(type='MSRAHeatmap', **cfg))) is MMPoseMSRAHeatmap
        transform = GenerateTarget(encoder=dict(type='pose_plugins.MSRAHeatmap', **cfg))
    assert (MSRAHeatmap.label_mapping_table, MSRAHeatmap.field_mapping_table, MSRAHeatmap.instance_mapping_table) \
        == (MMPoseMSRAHeatmap.label_mapping_table, MMPoseMSRAHeatmap.field_mapping_table,
            MMPoseMSRAHeatmap.instance_mapping_table)
    keypoints, visible = _edge_case_keypoints(seed=5)
    results = transform(dict(transformed_keypoints=keypoints.astype(np.float32), keypoints_visible=visible))
    want = MMPoseMSRAHeatmap(**cfg).encode(keypoints.astype(np.float32), visible)
    np.testing.assert_array_equal(results['heatmaps'], want['heatmaps'])
    np.testing.assert_array_equal(results['keypoint_weights'], want['keypoint_weights'])
    assert results['field_mapping_table'] == dict(heatmaps='heatmaps')
    assert results['label_mapping_table'] == dict(keypoint_weights='keypoint_weights')


# ---------------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize('kwargs, match', [
    pytest.param(dict(sigma=0.0), r'sigma must be a finite number > 0.*0\.0', id='sigma-zero'),
    pytest.param(dict(sigma=-1.0), r'sigma must be a finite number > 0', id='sigma-negative'),
    pytest.param(dict(sigma=float('nan')), r'sigma must be a finite number > 0.*nan', id='sigma-nan'),
    pytest.param(dict(sigma='2'), r'sigma must be a finite number > 0', id='sigma-str'),
    pytest.param(dict(heatmap_size=(48, )), r'heatmap_size must be 2 positive ints.*\(48,\)', id='heatmap-1d'),
    pytest.param(dict(heatmap_size=(48.0, 64.0)), r'heatmap_size must be 2 positive ints', id='heatmap-float'),
    pytest.param(dict(heatmap_size=(0, 64)), r'heatmap_size must be 2 positive ints', id='heatmap-zero'),
    pytest.param(dict(heatmap_size=48), r'heatmap_size must be 2 positive ints.*48', id='heatmap-scalar'),
    pytest.param(dict(input_size=(192, 256, 3)), r'input_size must be 2 positive ints', id='input-3d'),
    pytest.param(dict(blur_kernel_size=10), r'blur_kernel_size must be an odd int >= 1.*got 10', id='kernel-even'),
    pytest.param(dict(blur_kernel_size=-1), r'blur_kernel_size must be an odd int >= 1', id='kernel-negative'),
    pytest.param(dict(unbiased='yes'), r'unbiased must be a bool', id='unbiased-str'),
])
def test_constructor_errors(kwargs: Dict, match: str) -> None:
    cfg = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2.0)
    cfg.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MSRAHeatmap(**cfg)


def test_constructor_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        MSRAHeatmap(INPUT_SIZE, HEATMAP_SIZE, 2.0)  # type: ignore[misc]


def test_encode_errors() -> None:
    codec = _codecs(unbiased=False)[0]
    with pytest.raises(ValueError, match=r'keypoints must be a numeric array of shape \(N, K, 2\), got shape \(1, 3, 3\)'):
        codec.encode(np.zeros((1, 3, 3)))
    with pytest.raises(ValueError, match=r"keypoints must be a numeric array of shape \(N, K, 2\), got shape \(3, 2\)"):
        codec.encode(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r'keypoints_visible must have shape \(N, K\) = \(1, 3\).*got \(1, 4\)'):
        codec.encode(np.zeros((1, 3, 2)), np.ones((1, 4)))
    with pytest.raises(ValueError, match=r'keypoints must be finite where keypoints_visible >= 0.5.*\[\[0, 1\]\]'):
        codec.encode(np.array([[[1.0, 2.0], [np.nan, 3.0], [np.inf, 0.0]]]), np.array([[1.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match=r'keypoints_visible must be finite'):
        codec.encode(np.zeros((1, 3, 2)), np.array([[1.0, np.nan, 1.0]]))
    # non-finite coordinates of unlabelled keypoints are fine: they are not drawn
    encoded = codec.encode(np.array([[[8.0, 8.0], [np.nan, np.nan]]]), np.array([[1.0, 0.0]]))
    assert np.isfinite(encoded['heatmaps']).all()


def test_decode_errors() -> None:
    codec = _codecs(unbiased=False)[0]
    with pytest.raises(ValueError, match=r'encoded must have shape \(K, H, W\) with \(H, W\) = \(16, 12\).*'
                       r'got \(3, 12, 16\)'):
        codec.decode(np.zeros((3, 12, 16), dtype=np.float32))
    with pytest.raises(ValueError, match=r'encoded must have shape \(K, H, W\)'):
        codec.decode(np.zeros((1, 3, 16, 12), dtype=np.float32))
    with pytest.raises(TypeError, match=r'encoded must be a numpy array.*Tensor'):
        codec.decode(torch.zeros(3, 16, 12))
    with pytest.raises(ValueError, match=r'MSRAHeatmap: heatmaps must have shape \(B, K, H, W\) with \(H, W\) = '
                       r'\(16, 12\)'):
        codec.batch_decode(torch.zeros(3, 16, 12))
    with pytest.raises(TypeError, match=r'heatmaps must be a torch.Tensor.*ndarray'):
        codec.batch_decode(np.zeros((2, 3, 16, 12), dtype=np.float32))
