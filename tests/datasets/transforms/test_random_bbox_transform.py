"""pose_plugins.RandomBBoxTransform: mmpose's transform with a fast truncated-normal sampler, same distribution."""
import numpy as np
import pytest
from mmpose.datasets.transforms import RandomBBoxTransform as MMPoseRandomBBoxTransform
from scipy import stats

from pose_plugins.datasets.transforms import RandomBBoxTransform
from pose_plugins.datasets.transforms.random_bbox_transform import truncnorm_rvs


@pytest.mark.parametrize('low,high', [(-1.0, 1.0), (-3.0, 0.5), (0.5, 2.5)], ids=['central', 'left', 'right'])
def test_sampler_follows_scipy_truncnorm(low, high):
    """Kolmogorov-Smirnov against scipy's truncnorm CDF, 20000 draws from a fixed seed. Under the null the KS
    p-value is uniform, so a correct sampler fails the 1e-3 level in 1 of 1000 seeds; the seed is fixed, so the
    test is deterministic. A wrong scale (e.g. an untruncated normal, or sigma 1.1) gives p < 1e-10 at this n."""
    np.random.seed(0)
    draws = truncnorm_rvs(low=low, high=high, size=20000)
    assert draws.min() >= low and draws.max() <= high
    assert stats.kstest(draws, stats.truncnorm(low, high).cdf).pvalue > 1e-3
    # the test has power: the same draws stretched by 10% are rejected
    assert stats.kstest(draws * 1.1, stats.truncnorm(low, high).cdf).pvalue < 1e-6


@pytest.mark.parametrize('low,high', [(-1.0, 1.0), (0.5, 2.5)])
def test_sampler_draws_what_scipy_draws(low, high):
    """The same uniforms from numpy's global stream and the same inverse CDF: scipy's own samples for the same
    seed, to ~1e-15 (scipy evaluates the quantile in log space; 1e-12 leaves three orders of magnitude)."""
    np.random.seed(5)
    want = stats.truncnorm.rvs(low, high, size=(1000, 4))
    after_scipy = np.random.random()
    np.random.seed(5)
    got = truncnorm_rvs(low=low, high=high, size=(1000, 4))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.random.random() == after_scipy  # the same number of draws: later transforms see the same stream


def test_transform_matches_mmpose_for_the_same_seed():
    """Same arguments, same numpy seed: mmpose's boxes, scales and rotations (float32 casts of ~1e-15-close
    draws agree exactly)."""
    kwargs = dict(shift_prob=0.5, scale_factor=(0.7, 1.3), rotate_factor=40.0)
    results = dict(bbox_center=np.array([[50.0, 60.0]], np.float32), bbox_scale=np.array([[80.0, 120.0]], np.float32))
    for seed in range(20):
        np.random.seed(seed)
        want = MMPoseRandomBBoxTransform(**kwargs)(dict(results))
        np.random.seed(seed)
        got = RandomBBoxTransform(**kwargs)(dict(results))
        for key in ('bbox_center', 'bbox_scale', 'bbox_rotation'):
            np.testing.assert_array_equal(got[key], want[key])


def test_sampler_errors():
    with pytest.raises(ValueError, match='low must be < high'):
        truncnorm_rvs(low=1.0, high=1.0, size=3)
