"""IntegralRegressionLabel: parity with mmpose's in 2D, the 3D depth mapping and its weights, round trips, errors."""
import numpy as np
import pytest
from mmpose.codecs import IntegralRegressionLabel as MMPoseIntegralRegressionLabel

from pose_plugins.codecs import IntegralRegressionLabel

SIZES = dict(input_size=(192, 256), heatmap_size=(48, 64))


def _keypoints(seed, n=1, k=17, low=-20.0, high=280.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, (n, k, 2)), rng.integers(0, 3, (n, k)).astype(np.float32)


@pytest.mark.parametrize('options', [
    dict(sigma=2.0), dict(sigma=3.0, normalize=False), dict(sigma=2.0, unbiased=True, blur_kernel_size=11)],
    ids=['ipr', 'unnormalized', 'dark'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_2d_encode_and_decode_equal_mmpose(options, seed):
    ours = IntegralRegressionLabel(**SIZES, **options)
    theirs = MMPoseIntegralRegressionLabel(**SIZES, **options)
    keypoints, visible = _keypoints(seed)
    a, b = ours.encode(keypoints, visible), theirs.encode(keypoints, visible)
    assert set(a) == set(b)
    for key in b:
        assert a[key].dtype == b[key].dtype == np.float32
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_allclose(ours.decode(a['keypoint_labels'])[0], theirs.decode(b['keypoint_labels'])[0],
                               rtol=1e-6, atol=1e-4)
    np.testing.assert_array_equal(ours.decode(a['keypoint_labels'])[1], theirs.decode(b['keypoint_labels'])[1])
    assert ours.label_mapping_table == theirs.label_mapping_table
    assert ours.field_mapping_table == theirs.field_mapping_table


def test_2d_labels_and_weights_by_hand():
    codec = IntegralRegressionLabel(input_size=(100, 50), heatmap_size=(25, 12), with_heatmaps=False)
    keypoints = np.array([[[0.0, 0.0], [99.0, 49.0], [99.5, 10.0], [50.0, -0.1], [25.0, 10.0]]])
    visible = np.array([[1.0, 2.0, 1.0, 1.0, 0.0]])
    encoded = codec.encode(keypoints, visible)
    np.testing.assert_allclose(encoded['keypoint_labels'][0, :2], [[0.0, 0.0], [0.99, 0.98]], rtol=1e-6)
    np.testing.assert_array_equal(encoded['keypoint_weights'], [[1, 1, 0, 0, 0]])
    assert 'heatmaps' not in encoded and codec.field_mapping_table == {}


def test_normalised_heatmaps_sum_to_one_where_drawn():
    codec = IntegralRegressionLabel(**SIZES)
    keypoints, visible = _keypoints(3)
    encoded = codec.encode(keypoints, visible)
    sums = encoded['heatmaps'].sum(axis=(1, 2))
    drawn = encoded['heatmaps'].reshape(17, -1).max(1) > 0
    np.testing.assert_allclose(sums[drawn], 1.0, rtol=1e-5)
    np.testing.assert_array_equal(sums[~drawn], 0.0)


def test_3d_depth_mapping_weights_and_round_trip():
    codec = IntegralRegressionLabel(**SIZES, bbox_3d_shape=2000.0)
    z = np.array([-1000.0, -999.0, 0.0, 500.0, 999.9, 1000.0, np.nan, 250.0])
    keypoints = np.stack([np.full(8, 50.0), np.full(8, 60.0), z], -1)[None]
    visible = np.array([[1, 1, 1, 1, 1, 1, 1, 0]], dtype=np.float32)
    encoded = codec.encode(keypoints, visible)
    assert encoded['keypoint_labels'].shape == (1, 8, 3)
    # 3DMPPE: bin = (z / (2000 / 2) + 1) * D / 2, i.e. label = bin / D = z / 2000 + 1/2, in [0, 1)
    np.testing.assert_allclose(encoded['keypoint_labels'][0, :6, 2], [0.0, 0.0005, 0.5, 0.75, 0.99995, 0.5],
                               atol=1e-6)
    np.testing.assert_array_equal(encoded['keypoint_depth_weights'], [[1, 1, 1, 1, 1, 0, 0, 0]])
    np.testing.assert_array_equal(encoded['keypoint_weights'], [[1, 1, 1, 1, 1, 1, 1, 0]])
    assert codec.label_mapping_table['keypoint_depth_weights'] == 'keypoint_depth_weights'
    decoded, scores = codec.decode(encoded['keypoint_labels'])
    known = encoded['keypoint_depth_weights'][0] > 0
    np.testing.assert_allclose(decoded[0, known], keypoints[0, known], atol=1e-3)
    assert scores.shape == (1, 8)


def test_3d_codec_accepts_2d_only_keypoints_with_zero_depth_weight():
    codec = IntegralRegressionLabel(**SIZES, bbox_3d_shape=2000.0)
    keypoints, visible = _keypoints(4)
    encoded = codec.encode(keypoints, visible)
    np.testing.assert_array_equal(encoded['keypoint_labels'][..., 2], 0.5)
    np.testing.assert_array_equal(encoded['keypoint_depth_weights'], 0.0)
    # x, y and the heatmaps are those of the 2D codec
    plain = IntegralRegressionLabel(**SIZES).encode(keypoints, visible)
    np.testing.assert_array_equal(encoded['keypoint_labels'][..., :2], plain['keypoint_labels'])
    np.testing.assert_array_equal(encoded['heatmaps'], plain['heatmaps'])


@pytest.mark.parametrize('kwargs, match', [
    (dict(bbox_3d_shape=0.0), 'bbox_3d_shape must be a positive depth extent'),
    (dict(bbox_3d_shape='2000'), 'bbox_3d_shape must be a positive depth extent'),
    (dict(input_size=(192, )), 'input_size must be 2 positive ints'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IntegralRegressionLabel(**dict(SIZES, **kwargs))


def test_bad_shapes():
    codec2d = IntegralRegressionLabel(**SIZES)
    with pytest.raises(ValueError, match=r'keypoints must be a numeric array of shape \(N, K, 2\).*set bbox_3d_shape'):
        codec2d.encode(np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match=r'keypoints_visible must have shape \(N, K\)'):
        codec2d.encode(np.zeros((1, 17, 2)), np.ones((17, )))
    with pytest.raises(ValueError, match=r'expected normalised coordinates \(N, K, 2\)'):
        codec2d.decode(np.zeros((1, 17, 3)))
    with pytest.raises(ValueError, match=r'expected normalised coordinates \(N, K, 3\)'):
        IntegralRegressionLabel(**SIZES, bbox_3d_shape=2000.0).decode(np.zeros((1, 17, 2)))
