"""``warp_affine_batch`` of ``TopdownAffineMatrix``'s (image, warp_matrix) == mmpose's ``TopdownAffine`` crop, to the
bound OpenCV's fixed-point arithmetic allows; keypoints, scales and sizes exactly."""
# The bound on |ours - cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_LINEAR)| per pixel and channel, from OpenCV's
# 8-bit path (modules/imgproc/src/imgwarp.cpp: WarpAffineInvoker, initInterTab2D, remapBilinear):
#   * M is inverted in float64. The source x of crop pixel (x, y) is X = rint(A11 x 1024) + rint((A12 y + A13) 1024)
#     + 16 in 1/1024 px (AB_SCALE), then X >> 5 keeps 1/32 px (INTER_BITS = 5); y alike. Two roundings of <= 0.5/1024
#     and the floor after adding half a 1/32 step: |coordinate error| <= 1/64 + 1/1024 px per axis.
#   * Weights (k/32)(l/32) in 2^15 fixed point (INTER_REMAP_COEF_BITS) are 32 k l: exact, except at integer
#     positions, where the weight 2^15 saturates to 32767 (int16) and the table's fix-up gives the missing 1 to the
#     opposite corner: the value moves by (S11 - S00) / 2^15 <= 2 L / 2^15.
#   * The result is (sum + 2^14) >> 15: the exact value rounded half up, as ours (floor(v + 0.5)).
#   Ours: float32 warp_matrix, theta, affine_grid and grid_sample's unnormalisation on coordinates below 2^7 px:
#   < 1e-4 px, taken as 1e-3 px per axis; float32 bilinear sums of values <= 255: < 1e-4, taken as 1e-3.
# Between two points within one pixel the bilinear interpolant moves by <= L (|dx| + |dy|), L the largest absolute
# difference of adjacent source pixels over the 4x4 pixels (3x3 cells) around floor(exact source coordinate), pixels
# outside the image 0 (both read the constant border 0 there). Two values rounded to integers differ by < |a - b| + 1:
#     |ours - cv2| <= ceil(E),  E = L (2 (1/64 + 1/1024 + 1e-3) + 2 / 2^15) + 1e-3,
# and 0 where L = 0 (a constant interpolates exactly in both). L = 255 (noise) gives E = 8.99: at most 9.
# Statistics: the coordinate error spreads over +-1/64 (mean |.| 1/128), so with the interpolant's slopes gx, gy at the
# exact point, E|a - b| <= (|gx| + |gy|) (1/128 + 1/1024 + 1e-3) =: e; a difference |a - b| < 1 changes the rounded
# value with probability |a - b| when the fractional parts spread. So mean |ours - cv2| <= mean e, and the share of
# unequal pixels <= mean min(1, e), for crops mostly on their images (an average needs pixels). 60 seeds of each
# such case gave measured / expected <= 0.85 for both (means 0.08-0.19 against 0.14-0.27 for smooth images with
# edges, 0.3-0.7 against 0.5-1.1 for noise).
import cv2
import numpy as np
import pytest
import torch
from mmpose.datasets.transforms import RandomFlip
from mmpose.datasets.transforms import TopdownAffine as MMPoseTopdownAffine
from mmpose.structures.bbox import get_warp_matrix
from numpy.lib.stride_tricks import sliding_window_view

from pose_plugins.datasets.transforms import TopdownAffineMatrix
from pose_plugins.models.data_preprocessors.batch_warp import pad_to_batch, warp_affine_batch

OUT_SIZE = (24, 32)  # (w, h)
OURS_COORD, OURS_VALUE = 1e-3, 1e-3  # float32 coordinate (px) and value error, comment above
COORD_ERROR = 1 / 64 + 1 / 1024 + OURS_COORD  # per axis, worst case
MEAN_COORD_ERROR = 1 / 128 + 1 / 1024 + OURS_COORD  # per axis, mean


def _noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _smooth_with_edges(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Slow sinusoids with a hard-edged disc and a bar (jumps of ~100-250) on top."""
    yy, xx = np.mgrid[:h, :w]
    img = np.stack([127 + 90 * np.sin(xx / rng.uniform(5, 9) + c) * np.cos(yy / rng.uniform(4, 8)) for c in range(3)],
                   axis=-1)
    img[(xx - rng.uniform(0, w)) ** 2 + (yy - rng.uniform(0, h)) ** 2 < (min(h, w) / 4) ** 2] = (250, 10, 128)
    img[:, w // 3:w // 3 + 2] = 0
    return img.round().astype(np.uint8)


def _matrix(rng: np.random.Generator, h: int, w: int, *, rotation: float, zoom: float,
            shift: float = 0.0) -> np.ndarray:
    """mmpose's crop matrix (source -> crop) of a box around a random point, shifted by ``shift`` image sizes."""
    center = np.array([rng.uniform(0, w) + shift * w, rng.uniform(0, h) + shift * h], np.float32)
    scale = np.array([OUT_SIZE[0] / zoom, OUT_SIZE[1] / zoom], np.float32)
    return get_warp_matrix(center, scale, rotation, output_size=OUT_SIZE)


def _local(image: np.ndarray, matrix: np.ndarray) -> tuple:
    """(L, e) of the comment above, each (h, w, C), for each crop pixel: L over the 4x4 source pixels around floor of
    the float64 source coordinate, e from the interpolant's slopes there; the image bordered by zeros."""
    pad = 5
    source = np.pad(image.astype(np.float64), ((pad, pad), (pad, pad), (0, 0)))
    horizontal = sliding_window_view(np.abs(np.diff(source, axis=1)), (4, 3), axis=(0, 1)).max(axis=(-2, -1))
    vertical = sliding_window_view(np.abs(np.diff(source, axis=0)), (3, 4), axis=(0, 1)).max(axis=(-2, -1))
    block = np.maximum(horizontal, vertical)  # indexed by the block's top-left pixel
    inverse = cv2.invertAffineTransform(matrix.astype(np.float64))
    ys, xs = np.mgrid[:OUT_SIZE[1], :OUT_SIZE[0]]
    sx = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    sy = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    # clipped: a block or cell entirely outside the image lands on the zero border, as it should
    x0 = np.clip(np.floor(sx).astype(int) + pad, 1, source.shape[1] - 3)
    y0 = np.clip(np.floor(sy).astype(int) + pad, 1, source.shape[0] - 3)
    lipschitz = block[y0 - 1, x0 - 1]
    u, v = (sx - np.floor(sx))[..., None], (sy - np.floor(sy))[..., None]
    s00, s01, s10, s11 = source[y0, x0], source[y0, x0 + 1], source[y0 + 1, x0], source[y0 + 1, x0 + 1]
    slopes = np.abs((1 - v) * (s01 - s00) + v * (s11 - s10)) + np.abs((1 - u) * (s10 - s00) + u * (s11 - s01))
    return lipschitz, slopes * MEAN_COORD_ERROR


def _bound(lipschitz: np.ndarray) -> np.ndarray:
    worst = lipschitz * (2 * COORD_ERROR + 2 / 2 ** 15) + OURS_VALUE
    return np.where(lipschitz > 0, np.ceil(worst), 0)


def _warp(images: list, matrices: list) -> list:
    """Our crops (h, w, C) of (H_i, W_i, C) images, the whole batch in one call."""
    batch = pad_to_batch([torch.from_numpy(img).permute(2, 0, 1) for img in images])
    sizes = torch.tensor([[img.shape[1], img.shape[0]] for img in images])
    crops = warp_affine_batch(batch, sizes, torch.from_numpy(np.stack(matrices)), OUT_SIZE)
    assert crops.shape == (len(images), 3, OUT_SIZE[1], OUT_SIZE[0]) and crops.dtype == torch.float32
    return list(crops.permute(0, 2, 3, 1).numpy())


def _compare(images: list, matrices: list, wants: list) -> dict:
    """Assert every pixel within its bound; the statistics and their expectations (comment above)."""
    diffs, expected = [], []
    for got, want, image, matrix in zip(_warp(images, matrices), wants, images, matrices):
        np.testing.assert_array_equal(got, np.round(got))
        diff = np.abs(got - want)
        lipschitz, slopes = _local(image, matrix)
        bound = _bound(lipschitz)
        assert (diff <= bound).all(), f'{int((diff > bound).sum())} pixels over the bound, worst ' \
            f'{(diff - bound).max()} over'
        diffs.append(diff)
        expected.append(slopes)
    diff, expected = np.concatenate(diffs), np.concatenate(expected)
    return dict(max=diff.max(), mean=diff.mean(), equal=(diff == 0).mean(), mean_bound=expected.mean(),
                unequal_bound=np.minimum(1.0, expected).mean())


def _assert_statistics(stats: dict) -> None:
    """The expectations of the comment above; they average over the crops' pixels, so only for crops that lie
    mostly on their images (a crop with a handful of pixels on its image is no average)."""
    assert stats['mean'] <= stats['mean_bound'], stats
    assert 1 - stats['equal'] <= stats['unequal_bound'], stats


def _cv2(images: list, matrices: list) -> list:
    return [cv2.warpAffine(img, m, OUT_SIZE, flags=cv2.INTER_LINEAR) for img, m in zip(images, matrices)]


def _case(name: str, rng: np.random.Generator) -> tuple:
    """(images, matrices) of one named case; image sizes differ within a batch."""
    sizes = [(int(rng.integers(12, 48)), int(rng.integers(12, 48))) for _ in range(6)]
    if name == 'noise':
        images = [_noise(rng, h, w) for h, w in sizes]
        matrices = [_matrix(rng, h, w, rotation=rng.uniform(-40, 40), zoom=rng.uniform(0.5, 2)) for h, w in sizes]
    elif name == 'smooth-edges':
        images = [_smooth_with_edges(rng, h, w) for h, w in sizes]
        matrices = [_matrix(rng, h, w, rotation=rng.uniform(-40, 40), zoom=rng.uniform(0.5, 2)) for h, w in sizes]
    elif name == 'rotations':
        images = [_smooth_with_edges(rng, h, w) for h, w in sizes]
        matrices = [_matrix(rng, h, w, rotation=r, zoom=z)
                    for (h, w), r, z in zip(sizes, (-40, 40, 90, 180, 1e-3, 0), (0.5, 2, 1, 1.3, 0.7, 1))]
    elif name == 'outside':  # boxes half out, and entirely out (5 image sizes away > the crop's reach of 40 px)
        images = [_smooth_with_edges(rng, h, w) for h, w in sizes]
        matrices = [_matrix(rng, h, w, rotation=rng.uniform(-40, 40), zoom=rng.uniform(0.5, 2), shift=s)
                    for (h, w), s in zip(sizes, (-0.5, 0.5, -1.0, 5.0, -5.0, 0.9))]
    else:
        raise KeyError(name)
    return images, matrices


@pytest.mark.parametrize('name', ['noise', 'smooth-edges', 'rotations', 'outside'])
def test_crops_within_the_bound_of_opencvs_fixed_point(name):
    rng = np.random.default_rng(['noise', 'smooth-edges', 'rotations', 'outside'].index(name))
    images, matrices = _case(name, rng)
    stats = _compare(images, matrices, _cv2(images, matrices))
    if name != 'outside':
        _assert_statistics(stats)
    if name in ('smooth-edges', 'rotations'):  # images like the ones crops are made of: the expected mean difference
        assert stats['mean_bound'] < 0.5 and stats['unequal_bound'] < 0.5, stats  # is small, most pixels are equal
    if name == 'outside':
        assert not np.stack(_cv2(images[3:5], matrices[3:5])).any()  # the fully outside crops are zeros ...
        assert not np.stack(_warp(images[3:5], matrices[3:5])).any()  # ... in ours too


def test_padding_of_a_larger_neighbour_does_not_leak():
    """A small image next to a large one: a crop reaching past the small image's right and bottom edges reads the
    constant 0 there, also when the padded batch holds something else (the ``sizes`` mask)."""
    rng = np.random.default_rng(7)
    small, large = _noise(rng, 10, 14), _noise(rng, 40, 44)
    matrices = [_matrix(rng, 10, 14, rotation=20.0, zoom=1.0, shift=0.5), _matrix(rng, 40, 44, rotation=0.0, zoom=1.0)]
    want = _cv2([small, large], matrices)
    _compare([small, large], matrices, want)
    batch = pad_to_batch([torch.from_numpy(img).permute(2, 0, 1) for img in (small, large)])
    assert batch.shape == (2, 3, 40, 44) and batch.dtype == torch.uint8 and not batch[0, :, 10:].any()
    assert batch.is_pinned() == torch.cuda.is_available()
    sizes = torch.tensor([[14, 10], [44, 40]])
    crops = warp_affine_batch(batch, sizes, torch.from_numpy(np.stack(matrices)), OUT_SIZE)
    outside = want[0] == 0  # where OpenCV read only the border (noise is rarely 0 inside)
    assert outside.mean() > 0.2 and not crops[0].permute(1, 2, 0).numpy()[outside].any()
    batch[0, :, 10:], batch[0, :, :, 14:] = 255, 255  # garbage in the pad: the same crops
    assert torch.equal(warp_affine_batch(batch, sizes, torch.from_numpy(np.stack(matrices)), OUT_SIZE), crops)
    assert torch.equal(warp_affine_batch(batch.float(), sizes, torch.from_numpy(np.stack(matrices)), OUT_SIZE),
                       crops)  # float images: the same
    with pytest.raises(ValueError, match='pad_to_batch: expected'):
        pad_to_batch([torch.zeros(3, 4, 4, dtype=torch.uint8), torch.zeros(1, 4, 4, dtype=torch.uint8)])


def _sample(rng: np.random.Generator, image: np.ndarray) -> dict:
    h, w = image.shape[:2]
    return dict(img=image, img_shape=(h, w), bbox_center=rng.uniform([0, 0], [w, h], (1, 2)).astype(np.float32),
                bbox_scale=rng.uniform(0.4, 1.5, (1, 2)).astype(np.float32) * np.float32(max(h, w)),
                bbox_rotation=rng.uniform(-40, 40, 1).astype(np.float32),
                keypoints=rng.uniform(-5, max(h, w) + 5, (1, 5, 2)).astype(np.float32),
                keypoints_visible=np.ones((1, 5), np.float32), flip_indices=[0, 2, 1, 4, 3])


@pytest.mark.parametrize('use_udp', [False, True], ids=['plain', 'udp'])
@pytest.mark.parametrize('flip', [False, True], ids=['unflipped', 'flipped'])
def test_transform_and_warp_give_mmposes_crops(use_udp, flip):
    rng = np.random.default_rng(2 * use_udp + flip)
    originals = [_smooth_with_edges(rng, int(rng.integers(16, 48)), int(rng.integers(16, 48))) for _ in range(5)]
    images, matrices, wants = [], [], []
    for original in originals:
        results = _sample(rng, original)
        if flip:
            results = RandomFlip(prob=1.0, direction='horizontal')(results)
            assert results['img'].strides[1] < 0  # mmcv's flip is a view
        want = MMPoseTopdownAffine(input_size=OUT_SIZE, use_udp=use_udp)(dict(results))
        got = TopdownAffineMatrix(input_size=OUT_SIZE, use_udp=use_udp)(dict(results))
        for key in ('transformed_keypoints', 'bbox_scale', 'input_center', 'input_scale'):
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)
        assert got['input_size'] == want['input_size'] == OUT_SIZE
        assert got['warp_matrix'].shape == (2, 3) and got['warp_matrix'].dtype == np.float32
        assert got['img'].flags.c_contiguous and np.shares_memory(got['img'], original)  # no copy
        np.testing.assert_array_equal(got['img'], original)
        images.append(got['img'])
        matrices.append(got['warp_matrix'])
        wants.append(want['img'])
    _assert_statistics(_compare(images, matrices, wants))


def test_other_views_are_made_contiguous():
    """A crop view and a view flipped both ways: C-contiguous images, crops as mmpose's."""
    rng = np.random.default_rng(4)
    original = _smooth_with_edges(rng, 40, 36)
    for view in (original[3:, 5:], original[::-1, ::-1]):
        results = _sample(rng, view)
        want = MMPoseTopdownAffine(input_size=OUT_SIZE)(dict(results))
        got = TopdownAffineMatrix(input_size=OUT_SIZE)(dict(results))
        assert got['img'].flags.c_contiguous
        _compare([got['img']], [got['warp_matrix']], [want['img']])


def test_a_list_of_images_is_refused():
    results = _sample(np.random.default_rng(5), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='TopdownAffineMatrix: a list of images is not supported'):
        TopdownAffineMatrix(input_size=OUT_SIZE)(dict(results, img=[results['img']] * 2))
