"""Box IoU against hand-computed values, and OKS against hand-computed values and mmpose's ``oks_iou``."""
import numpy as np
import pytest

from pose_plugins_runtime.video.similarity import COCO_SIGMAS, box_iou_matrix, oks_matrix


def test_coco_sigmas():
    assert COCO_SIGMAS.shape == (17, )
    # rtol: the table is COCO's values / 10, one float64 division (<= 1 ulp)
    np.testing.assert_allclose(COCO_SIGMAS[[0, 5, 11, 16]], [.026, .079, .107, .089], rtol=1e-15)
    assert not COCO_SIGMAS.flags.writeable


def test_box_iou_hand_computed():
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 4]], dtype=np.float64)
    b = np.array([[5, 5, 15, 15], [0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 5]], dtype=np.float64)
    expected = np.array([
        [25 / 175, 1.0, 0.0, 50 / 100],  # quarter overlap; same box; disjoint; half inside
        [0.0, 8 / 100, 0.0, 8 / 50],  # disjoint; inside; inside
    ])
    iou = box_iou_matrix(a, b)
    np.testing.assert_allclose(iou, expected, rtol=1e-15)  # a few float64 operations on small integers
    np.testing.assert_array_equal(box_iou_matrix(b, a), iou.T)


@pytest.mark.parametrize('a, b, shape', [
    pytest.param(np.zeros((0, 4)), np.array([[0., 0, 1, 1]]), (0, 1), id='no-a'),
    pytest.param(np.array([[0., 0, 1, 1]]), np.zeros((0, 4)), (1, 0), id='no-b'),
])
def test_box_iou_empty(a, b, shape):
    assert box_iou_matrix(a, b).shape == shape


def test_box_iou_degenerate_boxes_are_zero():
    point = np.array([[3., 3, 3, 3]])
    np.testing.assert_array_equal(box_iou_matrix(point, point), [[0.0]])


def test_box_iou_refuses_bad_shape():
    with pytest.raises(ValueError, match=r'b must be an \(N, 4\).*\(2, 5\)'):
        box_iou_matrix(np.zeros((1, 4)), np.zeros((2, 5)))


def _poses(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """n poses (n, k, 2): one random skeleton, each pose shifted and jittered by a few pixels."""
    base = rng.uniform(0, 100, size=(k, 2))
    return base + rng.normal(0, 3, size=(n, 1, 2)) + rng.normal(0, 4, size=(n, k, 2))


def test_oks_hand_computed():
    a = np.arange(34, dtype=np.float64).reshape(1, 17, 2)
    b = a.copy()
    b[0, 5] += [3, 4]  # left shoulder 5 px away
    area = 100.0
    e = 25 / (2 * area * (2 * COCO_SIGMAS[5]) ** 2)
    expected = (16 + np.exp(-e)) / 17
    # rtol: float64, the eps np.spacing(1) added to the area changes it by ~1e-18
    np.testing.assert_allclose(oks_matrix(a, b, areas=[area]), [[expected]], rtol=1e-14)
    visible = np.zeros((1, 17), dtype=bool)
    visible[0, [0, 5]] = True  # only the nose and the moved shoulder count
    np.testing.assert_allclose(oks_matrix(a, b, areas=[area], visible=visible), [[(1 + np.exp(-e)) / 2]],
                               rtol=1e-14)


def test_oks_areas_from_boxes_and_visibility():
    rng = np.random.default_rng(0)
    a, b = np.split(_poses(rng, 7, 17), [3])
    boxes = np.concatenate([b.min(1), b.max(1)], axis=1)
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    np.testing.assert_array_equal(oks_matrix(a, b, boxes=boxes), oks_matrix(a, b, areas=areas))

    none_visible = np.zeros((4, 17), dtype=bool)
    np.testing.assert_array_equal(oks_matrix(a, b, areas=areas, visible=none_visible), np.zeros((3, 4)))

    # A non-finite keypoint counts as not visible, in either pose.
    a_nan, b_nan = a.copy(), b.copy()
    a_nan[0, 3] = np.nan
    b_nan[1, 7, 0] = np.inf
    visible = np.ones((4, 17), dtype=bool)
    visible[1, 7] = False
    visible_a = np.ones((3, 17), dtype=bool)
    visible_a[0, 3] = False
    got = oks_matrix(a_nan, b_nan, areas=areas)
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got, oks_matrix(a, b, areas=areas, visible=visible, visible_a=visible_a))


@pytest.mark.parametrize('k, custom_sigmas', [
    pytest.param(17, False, id='coco17'),
    pytest.param(5, True, id='k5-custom-sigmas'),
])
def test_oks_equals_mmpose_oks_iou(k, custom_sigmas):
    pytest.importorskip('mmpose')
    from mmpose.evaluation.functional.nms import oks_iou
    rng = np.random.default_rng(1)
    n, m = 4, 5
    a, b = np.split(_poses(rng, n + m, k), [n])
    areas = rng.uniform(500, 5000, size=m)
    visible = rng.random((m, k)) > 0.3
    visible[0] = False  # a reference with no visible keypoint: OKS 0 in both
    sigmas = rng.uniform(0.02, 0.1, size=k) if custom_sigmas else None

    got = oks_matrix(a, b, areas=areas, sigmas=sigmas, visible=visible)
    expected = np.empty((n, m))
    for j in range(m):  # mmpose: one reference against all others; same area on both sides -> the reference's
        g = np.concatenate([b[j], visible[j, :, None].astype(np.float64)], axis=1).reshape(-1)
        d = np.concatenate([a, np.ones((n, k, 1))], axis=2).reshape(n, -1)
        expected[:, j] = oks_iou(g, d, areas[j], np.full(n, areas[j]), sigmas=sigmas, vis_thr=0.5)
    assert got.shape == (n, m)
    assert (got[:, 0] == 0).all() and (got[:, 1:] > 0).all()
    # atol: mmpose returns float32 (values in [0, 1], spacing <= 6e-8); float64 here
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)


@pytest.mark.parametrize('kwargs, match', [
    pytest.param({}, r'exactly one of areas or boxes', id='no-scale'),
    pytest.param({'areas': np.ones(2), 'boxes': np.ones((2, 4))}, r'exactly one of areas or boxes', id='both'),
    pytest.param({'areas': np.ones(3)}, r'areas \(or boxes\) must give one area per reference pose, shape '
                 r'\(2, \), got shape \(3,\)', id='areas-shape'),
    pytest.param({'areas': np.ones(2), 'sigmas': np.ones(5)}, r'sigmas must have shape \(17, \).*\(5,\)',
                 id='sigmas-shape'),
    pytest.param({'areas': np.ones(2), 'visible': np.ones((2, 16))}, r'visible must have shape \(2, 17\)',
                 id='visible-shape'),
    pytest.param({'areas': np.ones(2), 'visible_a': np.ones((2, 17))}, r'visible_a must have shape \(1, 17\)',
                 id='visible-a-shape'),
])
def test_oks_refusals(kwargs, match):
    with pytest.raises(ValueError, match=match):
        oks_matrix(np.zeros((1, 17, 2)), np.zeros((2, 17, 2)), **kwargs)


def test_oks_refuses_mismatched_keypoints():
    with pytest.raises(ValueError, match=r'kpts_b must be an \(M, K, 2\) array with the K of kpts_a'):
        oks_matrix(np.zeros((1, 17, 2)), np.zeros((2, 16, 2)), areas=np.ones(2))
