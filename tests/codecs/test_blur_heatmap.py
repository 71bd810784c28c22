"""Tests of :class:`pose_plugins.codecs.blur_heatmap.CPNBlurHeatmap`: cv2 reference, hand-computed values,
mmpose's MegviiHeatmap, the mmpose pipeline (GenerateTarget + PackPoseInputs) and tf-cpn's decoding."""
import math
from typing import Tuple

import cv2
import numpy as np
import pytest
import torch
from mmpose.codecs import MegviiHeatmap
from mmpose.datasets.transforms import GenerateTarget, PackPoseInputs
from mmpose.structures import MultilevelPixelData

from pose_plugins.codecs.blur_heatmap import CPNBlurHeatmap, blurred_one_hot_profiles
from pose_plugins.codecs.utils import blur_heatmaps

# Small maps: input 48x64, heatmap 12x16, stride 4 in both directions.
INPUT_SIZE = (48, 64)
HEATMAP_SIZE = (12, 16)
STRIDE = 4.0
K = 9


def _codec(kernel_sizes=7, **kwargs) -> CPNBlurHeatmap:
    return CPNBlurHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, kernel_sizes=kernel_sizes, **kwargs)


def _cv2_target(pixel: Tuple[int, int], size: Tuple[int, int], kernel_size: int) -> np.ndarray:
    """tf-cpn's ``joints_heatmap_gen`` for one keypoint: one-hot, ``cv2.GaussianBlur(.., (k, k), 0)``, / max."""
    (x, y), (W, H) = pixel, size
    one_hot = np.zeros((H, W), dtype=np.float32)
    one_hot[y, x] = 1.0
    blurred = cv2.GaussianBlur(one_hot, (kernel_size, kernel_size), 0)
    return blurred / blurred.max()


def _random_keypoints(seed: int, n: int = 1, margin: float = 0.0) -> np.ndarray:
    """(n, K, 2) keypoints in input pixels, uniform over the image shrunk by ``margin`` heatmap pixels."""
    rng = np.random.default_rng(seed)
    low = margin * STRIDE
    return np.stack([rng.uniform(low, INPUT_SIZE[0] - low, (n, K)),
                     rng.uniform(low, INPUT_SIZE[1] - low, (n, K))], axis=-1)


# ------------------------------------------------------------------------------------------- the cv2 reference


@pytest.mark.parametrize('kernel_size', [3, 5, 7, 9, 11, 15])
@pytest.mark.parametrize('seed', range(3))
def test_encode_equals_cv2_blur_of_one_hot(kernel_size: int, seed: int) -> None:
    """Exactly cv2's numbers away from the borders; cv2's reflect-101 border to float32 rounding near them."""
    keypoints = _random_keypoints(seed)
    encoded = _codec(kernel_size).encode(keypoints)
    radius = kernel_size // 2
    for k, (x, y) in enumerate((keypoints[0] / STRIDE).astype(int)):  # reference: one keypoint at a time
        want = _cv2_target((x, y), HEATMAP_SIZE, kernel_size)
        if radius <= x < HEATMAP_SIZE[0] - radius and radius <= y < HEATMAP_SIZE[1] - radius:
            np.testing.assert_array_equal(encoded['heatmaps'][k], want)
        else:
            np.testing.assert_allclose(encoded['heatmaps'][k], want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('size', [(12, 16), (5, 3), (1, 4), (2, 2), (3, 1)], ids=str)
@pytest.mark.parametrize('kernel_size', [3, 7, 15])
def test_encode_equals_cv2_at_every_pixel_of_small_maps(size: Tuple[int, int], kernel_size: int) -> None:
    """Every keypoint position, including kernels wider than the map (OpenCV reflects repeatedly)."""
    W, H = size
    codec = CPNBlurHeatmap(input_size=(W * 4, H * 4), heatmap_size=size, kernel_sizes=kernel_size)
    ys, xs = np.mgrid[0:H, 0:W]
    keypoints = np.stack([xs.ravel(), ys.ravel()], axis=-1)[None] * 4.0 + 1.0  # (1, H * W, 2)
    heatmaps = codec.encode(keypoints)['heatmaps']
    for k, (x, y) in enumerate(zip(xs.ravel(), ys.ravel())):
        np.testing.assert_allclose(heatmaps[k], _cv2_target((x, y), size, kernel_size), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('kernel_size', [1, 3, 5, 7, 9, 15, 21])
def test_profiles_equal_cv2_filter_of_one_hot_rows(kernel_size: int) -> None:
    kernel = cv2.getGaussianKernel(kernel_size, 0, ktype=cv2.CV_32F).reshape(-1)
    n = 11
    got = blurred_one_hot_profiles(np.arange(n), n, kernel)
    want = np.stack([cv2.sepFilter2D(np.eye(n, dtype=np.float32)[p][None], -1, kernel, np.ones(1, np.float32))[0]
                     for p in range(n)])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------------------------------- hand-computed values


def test_encode_hand_computed_interior_values() -> None:
    # OpenCV's fixed 7-tap table (not the Gaussian formula): 1/32, 7/64, 7/32, 9/32, 7/32, 7/64, 1/32
    taps = np.array([1 / 32, 7 / 64, 7 / 32, 9 / 32, 7 / 32, 7 / 64, 1 / 32])
    np.testing.assert_allclose(cv2.getGaussianKernel(7, 0).ravel(), taps)
    # (5.9, 8.2) heatmap pixels -> the pixel containing it, (5, 8) (floor, as tf-cpn's int())
    heatmap = _codec(7).encode(np.array([[[5.9 * STRIDE, 8.2 * STRIDE]]]))['heatmaps'][0]
    assert heatmap[8, 5] == 1.0 and np.argwhere(heatmap == 1.0).tolist() == [[8, 5]]
    assert heatmap[8, 6] == pytest.approx(7 / 9, rel=1e-6) and heatmap[7, 5] == pytest.approx(7 / 9, rel=1e-6)
    assert heatmap[9, 6] == pytest.approx((7 / 9)**2, rel=1e-6)
    assert heatmap[8, 8] == pytest.approx((1 / 32) / (9 / 32), rel=1e-6)
    assert heatmap[8, 9] == 0.0 and heatmap[12, 5] == 0.0  # outside the 7x7 support
    assert np.count_nonzero(heatmap) == 49
    # kernel 15: OpenCV's formula sigma = 0.3 * ((15 - 1) / 2 - 1) + 0.8 = 2.6
    heatmap = CPNBlurHeatmap(input_size=(128, 128), heatmap_size=(32, 32), kernel_sizes=15).encode(
        np.array([[[16.5 * 4, 15.0 * 4]]]))['heatmaps'][0]
    assert heatmap[15, 16] == 1.0
    assert heatmap[15, 17] == pytest.approx(math.exp(-1 / (2 * 2.6**2)), rel=1e-6)
    assert heatmap[13, 13] == pytest.approx(math.exp(-(4 + 9) / (2 * 2.6**2)), rel=1e-6)


def test_encode_hand_computed_border_values() -> None:
    """One pixel from the border, the reflected tap makes the border pixel the maximum (cv2 reflect-101)."""
    heatmap = _codec(7).encode(np.array([[[1.5 * STRIDE, 8.0 * STRIDE]]]))['heatmaps'][0]  # pixel (1, 8)
    # column c sums the taps at its distances to the keypoint (column 1) and to its mirror image (column -1)
    column_0 = 7 / 32 + 7 / 32  # distances 1 and 1
    column_1 = 9 / 32 + 7 / 64  # distances 0 and 2
    column_2 = 7 / 32 + 1 / 32  # distances 1 and 3
    assert heatmap[8, 0] == 1.0
    assert heatmap[8, 1] == pytest.approx(column_1 / column_0, rel=1e-6)
    assert heatmap[8, 2] == pytest.approx(column_2 / column_0, rel=1e-6)
    assert heatmap[7, 0] == pytest.approx(7 / 9, rel=1e-6)  # rows are far from a border: plain profile
    # on the border itself nothing is mirrored onto the keypoint: the plain profile
    heatmap = _codec(7).encode(np.array([[[0.2, 8.0 * STRIDE]]]))['heatmaps'][0]  # pixel (0, 8)
    assert heatmap[8, 0] == 1.0 and heatmap[8, 1] == pytest.approx(7 / 9, rel=1e-6)


def test_encode_weights_and_empty_maps() -> None:
    w, h = INPUT_SIZE
    keypoints = np.array([[[10.0, 10.0], [10.0, 10.0], [10.0, 10.0], [w + 1.0, 10.0], [-0.5, 10.0],
                           [10.0, h - 0.01], [10.0, h], [np.nan, 3.0], [w - 0.01, 0.0]]])
    visible = np.array([[1.0, 0.0, 0.3, 1.0, 1.0, 1.0, 1.0, 0.0, 2.0]])
    encoded = _codec((7, 3)).encode(keypoints, visible)
    weights = encoded['keypoint_weights']
    assert isinstance(weights, list) and len(weights) == 2
    # labelled and inside: visibility kept (2.0 too); < 0.5: not drawn, visibility kept; outside: 0
    want = np.array([[1.0, 0.0, 0.3, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0]], dtype=np.float32)
    for level_weights in weights:
        assert level_weights.dtype == np.float32
        np.testing.assert_array_equal(level_weights, want)
    for heatmaps in encoded['heatmaps']:
        assert heatmaps.shape == (K, 16, 12) and heatmaps.dtype == np.float32
        drawn = heatmaps.reshape(K, -1).max(axis=1)
        np.testing.assert_array_equal(drawn, [1, 0, 0, 0, 0, 1, 0, 0, 1])
        assert heatmaps[5, 15, 2] == 1.0 and heatmaps[8, 0, 11] == 1.0  # last row / last column


def test_encode_rejects_bad_inputs() -> None:
    codec = _codec()
    with pytest.raises(ValueError, match=r'\(N, K, 2\)'):
        codec.encode(np.zeros((1, K, 3)))
    with pytest.raises(ValueError, match=r'keypoints_visible .*\(1, 9\)'):
        codec.encode(np.zeros((1, K, 2)), np.ones((1, K + 1)))
    with pytest.raises(ValueError, match=r'finite .*\[\[0, 2\]\]'):
        keypoints = np.zeros((1, K, 2))
        keypoints[0, 2, 0] = np.inf
        codec.encode(keypoints)


@pytest.mark.parametrize('kwargs, match', [
    (dict(kernel_sizes=8), r'kernel_sizes must be an odd int >= 1 .*got 8'),
    (dict(kernel_sizes=(15, 11, 10)), r'kernel_sizes\[2\] must be an odd int .*got 10'),
    (dict(kernel_sizes=()), r'non-empty sequence'),
    (dict(kernel_sizes='15'), r'non-empty sequence'),
    (dict(kernel_sizes=7, blur_kernel_size=0), r'blur_kernel_size must be an odd int .*got 0'),
    (dict(kernel_sizes=7, heatmap_size=(12, )), r'heatmap_size must be 2 positive ints'),
], ids=['even', 'even-in-list', 'empty', 'str', 'blur0', 'size'])
def test_constructor_errors_name_the_value(kwargs: dict, match: str) -> None:
    args = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        CPNBlurHeatmap(**args)


# ------------------------------------------------------------------------------------- multi-level and pipelines


@pytest.mark.parametrize('seed', range(3))
def test_multilevel_encode_is_the_single_level_encodes(seed: int) -> None:
    keypoints = _random_keypoints(seed, n=2)  # two instances: combined by an element-wise max
    visible = np.random.default_rng(seed).choice([0.0, 1.0], size=(2, K))
    multi = _codec((15, 11, 9, 7)).encode(keypoints, visible)
    assert multi.keys() == {'heatmaps', 'keypoint_weights'} and len(multi['heatmaps']) == 4
    for level, kernel_size in enumerate((15, 11, 9, 7)):
        single = _codec(kernel_size).encode(keypoints, visible)
        np.testing.assert_array_equal(multi['heatmaps'][level], single['heatmaps'])
        np.testing.assert_array_equal(multi['keypoint_weights'][level], single['keypoint_weights'])
        per_instance = [_codec(kernel_size).encode(keypoints[n:n + 1], visible[n:n + 1])['heatmaps']
                        for n in range(2)]
        np.testing.assert_array_equal(single['heatmaps'], np.maximum(*per_instance))


def test_pipeline_packs_one_multilevel_codec_like_mmposes_multilevel_encoders() -> None:
    """GenerateTarget(encoder=ours(L sizes)) == GenerateTarget(encoder=[ours(k) ...], multilevel=True)."""
    kernel_sizes = (15, 11, 9, 7)
    common = dict(type='pose_plugins.CPNBlurHeatmap', input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE)
    keypoints = _random_keypoints(5)
    visible = np.ones((1, K), dtype=np.float32)
    visible[0, 3] = 0

    def pack(transform: GenerateTarget):
        results = dict(keypoints=keypoints.copy(), keypoints_visible=visible.copy(),
                       img=np.zeros((INPUT_SIZE[1], INPUT_SIZE[0], 3), np.uint8))
        return PackPoseInputs()(transform(results))['data_samples']

    ours = pack(GenerateTarget(encoder=dict(common, kernel_sizes=kernel_sizes)))
    theirs = pack(GenerateTarget(encoder=[dict(common, kernel_sizes=k) for k in kernel_sizes], multilevel=True))
    assert isinstance(ours.gt_fields, MultilevelPixelData) and ours.gt_fields.nlevel == 4
    for level in range(4):
        torch.testing.assert_close(ours.gt_fields[level].heatmaps, theirs.gt_fields[level].heatmaps, rtol=0,
                                   atol=0)
        assert ours.gt_fields[level].heatmaps.shape == (K, 16, 12)
    weights = ours.gt_instance_labels.keypoint_weights
    assert weights.shape == (4, 1, K)
    torch.testing.assert_close(weights, theirs.gt_instance_labels.keypoint_weights, rtol=0, atol=0)
    assert (weights[:, 0, 3] == 0).all() and (weights[:, 0, :3] == 1).all()


# ------------------------------------------------------------------------------------------ mmpose MegviiHeatmap


@pytest.mark.parametrize('kernel_size', [15, 11, 9, 7, 5])
@pytest.mark.parametrize('seed', range(4))
def test_encode_vs_megvii_heatmap(kernel_size: int, seed: int) -> None:
    """MegviiHeatmap = 255 * ours / ours[keypoint pixel]: equal (x 255) where the keypoint pixel is the maximum,
    i.e. everywhere but a few pixels from the border; weights equal for non-negative coordinates."""
    rng = np.random.default_rng(seed)
    keypoints = _random_keypoints(seed)
    keypoints[0, :3] = rng.uniform(0, 2 * STRIDE, (3, 2))  # next to the top-left border
    visible = rng.choice([0.0, 1.0], size=(1, K)).astype(np.float32)
    cfg = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE)
    ours = CPNBlurHeatmap(kernel_sizes=kernel_size, **cfg).encode(keypoints, visible)
    theirs = MegviiHeatmap(kernel_size=kernel_size, **cfg).encode(keypoints, visible)
    np.testing.assert_array_equal(ours['keypoint_weights'], theirs['keypoint_weights'])
    moved = 0
    for k, (x, y) in enumerate((keypoints[0] / STRIDE).astype(int)):
        if visible[0, k] < 0.5:
            assert not ours['heatmaps'][k].any() and not theirs['heatmaps'][k].any()
            continue
        at_keypoint = ours['heatmaps'][k, y, x]
        np.testing.assert_allclose(theirs['heatmaps'][k], 255 * ours['heatmaps'][k] / at_keypoint, rtol=2e-6,
                                   atol=1e-4)
        moved += at_keypoint < 1
    if kernel_size >= 11:  # a wide kernel near the border always moves the maximum of one of those three
        assert moved or not visible[0, :3].any()


def test_megvii_heatmap_truncates_small_negative_coordinates_we_drop_them() -> None:
    keypoints = np.array([[[-0.5 * STRIDE, 20.0], [20.0, -0.1], [20.0, 20.0]]])
    visible = np.ones((1, 3), dtype=np.float32)
    cfg = dict(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE)
    ours = CPNBlurHeatmap(kernel_sizes=7, **cfg).encode(keypoints, visible)
    theirs = MegviiHeatmap(kernel_size=7, **cfg).encode(keypoints, visible)
    np.testing.assert_array_equal(ours['keypoint_weights'], [[0, 0, 1]])
    np.testing.assert_array_equal(theirs['keypoint_weights'], [[1, 1, 1]])  # int(-0.5) == 0: drawn at pixel 0
    assert theirs['heatmaps'][0, 5, 0] == 255 and not ours['heatmaps'][0].any()


# ------------------------------------------------------------------------------------------------------ decoding


def test_decode_hand_built_map_moves_toward_second_maximum() -> None:
    codec = _codec(7, blur_kernel_size=1)  # kernel 1 = no blur
    heatmaps = np.zeros((3, 16, 12), dtype=np.float32)
    heatmaps[0, 7, 5], heatmaps[0, 8, 6] = 1.0, 0.8  # second maximum diagonal: (1, 1) / sqrt(2)
    heatmaps[1, 3, 2], heatmaps[1, 12, 9] = 0.9, 0.6  # second maximum far away: direction (7, 9) / |(7, 9)|
    heatmaps[2, 4, 4], heatmaps[2, 4, 3] = 0.7, 0.5  # left neighbour
    keypoints, scores = codec.decode(heatmaps)
    assert keypoints.shape == (1, 3, 2) and keypoints.dtype == np.float32 and scores.shape == (1, 3)
    d = 0.25 / math.sqrt(2)
    far = 0.25 * np.array([7.0, 9.0]) / math.hypot(7, 9)
    want = np.array([[5 + d, 7 + d], [2 + far[0], 3 + far[1]], [4 - 0.25, 4]]) + 0.5  # + 0.5: the pixel centre
    np.testing.assert_allclose(keypoints[0], want * STRIDE, rtol=1e-6)
    np.testing.assert_allclose(scores[0], [1.0, 0.9, 0.7])


def test_decode_blurs_before_taking_maxima() -> None:
    """A single-pixel spike loses against a broad blob once blurred; the score is the raw map's value there."""
    heatmaps = np.zeros((1, 16, 12), dtype=np.float32)
    heatmaps[0, 2, 2] = 1.0  # spike
    heatmaps[0, 9:12, 6:9] = 0.6  # 3x3 blob centred at (7, 10)
    heatmaps[0, 10, 8] = 0.61  # the blob leans right: second maximum of the blurred map at (8, 10)
    unblurred, _ = _codec(7, blur_kernel_size=1).decode(heatmaps)
    blurred, scores = _codec(7, blur_kernel_size=5).decode(heatmaps)
    assert np.floor(unblurred[0, 0] / STRIDE).tolist() == [2, 2]
    np.testing.assert_allclose(blurred[0, 0], (np.array([7.25, 10]) + 0.5) * STRIDE, rtol=1e-6)
    assert scores[0, 0] == pytest.approx(0.6)


@pytest.mark.parametrize('kernel_size', [7, 3])
@pytest.mark.parametrize('seed', range(4))
def test_decode_round_trip(kernel_size: int, seed: int) -> None:
    codec = _codec(kernel_size, blur_kernel_size=5)
    # 3 pixels from the borders: nearer, the zero-padded decoding blur of a map truncated (and reflected) at the
    # border can move its maximum inward, as in tf-cpn
    keypoints = _random_keypoints(seed, margin=3)
    decoded, scores = codec.decode(codec.encode(keypoints)['heatmaps'])
    # the maximum is the keypoint's pixel; the quarter-pixel step stays inside it
    np.testing.assert_array_equal(np.floor(decoded / STRIDE), np.floor(keypoints / STRIDE))
    assert np.abs(decoded - keypoints).max() <= 0.75 * STRIDE + 1e-4
    np.testing.assert_allclose(scores, 1.0)


@pytest.mark.parametrize('seed', range(4))
def test_decode_equals_megvii_where_both_step_along_one_axis(seed: int, monkeypatch) -> None:
    """Same argmax and pixel centring as MegviiHeatmap.decode; with the second maximum a horizontal neighbour and
    equal neighbours above and below, MegviiHeatmap's per-axis step is ours too. Both blurs are switched off
    (ours: kernel 1; mmpose's ``gaussian_blur`` cannot take kernel 1, so it is patched to the identity) to keep
    the neighbours exactly equal (a blur's float32 rounding would tip MegviiHeatmap's ``sign``); the blurs
    themselves are compared in the next test."""
    monkeypatch.setattr('mmpose.codecs.megvii_heatmap.gaussian_blur', lambda heatmaps, kernel: heatmaps)
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:16, 0:12].astype(np.float32)
    centres = np.stack([rng.integers(2, 10, K) + rng.choice([-0.3, 0.3], K), rng.integers(2, 14, K)], axis=-1)
    heatmaps = np.exp(-((xs - centres[:, 0, None, None])**2 + (ys - centres[:, 1, None, None])**2) / 4.5)
    heatmaps = heatmaps.astype(np.float32)
    ours, _ = _codec(7, blur_kernel_size=1).decode(heatmaps)
    theirs, _ = MegviiHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, kernel_size=1).decode(heatmaps)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    step = np.stack([0.25 * np.sign(centres[:, 0] - np.round(centres[:, 0])), np.zeros(K)], axis=-1)
    np.testing.assert_allclose(ours[0], (np.round(centres) + step + 0.5) * STRIDE, atol=1e-5)


@pytest.mark.parametrize('kernel_size', [3, 5, 11, 21])
def test_decoding_blur_equals_mmposes_zero_padded_cv2_blur(kernel_size: int) -> None:
    """mmpose's ``gaussian_blur`` (MegviiHeatmap.decode, tf-cpn's test blur) rescales to the original maximum."""
    from mmpose.codecs.utils import gaussian_blur
    heatmaps = np.random.default_rng(kernel_size).random((K, 16, 12), dtype=np.float32)
    ours = blur_heatmaps(torch.from_numpy(heatmaps)[None], kernel_size)[0].numpy()
    ours = ours * heatmaps.max(axis=(1, 2), keepdims=True) / ours.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(ours, gaussian_blur(heatmaps.copy(), kernel_size), rtol=1e-5, atol=1e-7)


def test_batch_decode_equals_decode_and_errors() -> None:
    codec = _codec((15, 11, 9, 7), blur_kernel_size=9)
    heatmaps = torch.from_numpy(np.random.default_rng(0).random((3, K, 16, 12), dtype=np.float32))
    keypoints, scores = codec.batch_decode(heatmaps)
    assert keypoints.shape == (3, 1, K, 2) and scores.shape == (3, 1, K) and codec.support_batch_decoding
    for b in range(3):
        want_keypoints, want_scores = codec.decode(heatmaps[b].numpy())
        np.testing.assert_array_equal(keypoints[b], want_keypoints)
        np.testing.assert_array_equal(scores[b], want_scores)
    with pytest.raises(ValueError, match=r'\(H, W\) = \(16, 12\).*got \(9, 12, 16\)'):
        codec.decode(np.zeros((K, 12, 16), dtype=np.float32))
    with pytest.raises(TypeError, match='numpy array'):
        codec.decode(heatmaps[0])
