"""The One-Euro filter against a scalar loop of the paper's equations, a closed form for beta = 0, missing samples,
refusals; and the per-track smoother on top of it."""
import math
from typing import List, Sequence

import numpy as np
import pytest

from pose_plugins_runtime.video.one_euro import OneEuroFilter
from pose_plugins_runtime.video.smoothing import TrackSmoother


def one_euro_reference(xs: Sequence[float], ts: Sequence[float], *, min_cutoff: float, beta: float,
                       d_cutoff: float) -> List[float]:
    """Casiez et al. (CHI 2012), one float64 scalar at a time, written from the paper's equations."""

    def alpha(cutoff: float, te: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    out = [float(xs[0])]
    x_hat, dx_hat, t_prev = float(xs[0]), 0.0, float(ts[0])
    for x, t in zip(xs[1:], ts[1:]):
        te = t - t_prev
        dx = (x - x_hat) / te
        dx_hat = alpha(d_cutoff, te) * dx + (1 - alpha(d_cutoff, te)) * dx_hat
        cutoff = min_cutoff + beta * abs(dx_hat)
        x_hat = alpha(cutoff, te) * x + (1 - alpha(cutoff, te)) * x_hat
        t_prev = t
        out.append(x_hat)
    return out


def _signal(rng: np.random.Generator, steps: int, shape: tuple) -> tuple:
    """Irregular times (steps, ) in s (about 30 fps, jittered) and noisy sines (steps, *shape) in pixels."""
    ts = np.cumsum(rng.uniform(0.02, 0.05, size=steps))
    phase = rng.uniform(0, 2 * np.pi, size=shape)
    xs = 100 * np.sin(2 * np.pi * 0.7 * ts.reshape(-1, *([1] * len(shape))) + phase)
    return ts, xs + rng.normal(0, 2.0, size=xs.shape)


@pytest.mark.parametrize('min_cutoff, beta, d_cutoff', [
    pytest.param(1.0, 0.0, 1.0, id='lowpass'),
    pytest.param(0.5, 0.05, 1.0, id='adaptive'),
    pytest.param(2.0, 1.0, 3.0, id='fast'),
])
def test_matches_scalar_reference(min_cutoff, beta, d_cutoff):
    rng = np.random.default_rng(0)
    ts, xs = _signal(rng, 60, (3, 2))
    f = OneEuroFilter(min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff)
    got = np.stack([f(x, t) for x, t in zip(xs, ts)])
    expected = np.empty_like(xs)
    for i in np.ndindex(3, 2):
        expected[(slice(None), ) + i] = one_euro_reference(xs[(slice(None), ) + i], ts, min_cutoff=min_cutoff,
                                                           beta=beta, d_cutoff=d_cutoff)
    np.testing.assert_array_equal(got[0], xs[0])  # the first sample passes unchanged
    assert np.abs(got[1:] - xs[1:]).max() > 0.1  # it does filter
    # atol: float64 in both, the same equations; values ~100 px (ulp 1.4e-14), ~10 roundings per step that the
    # filter does not accumulate (it contracts): 1e-12 leaves room for another evaluation order
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_beta_zero_is_first_order_lowpass_step_response():
    """x = 0 then a unit step: x_hat_n = 1 - prod_i (1 - alpha_i), alpha_i = 1 / (1 + tau / Te_i)."""
    rng = np.random.default_rng(1)
    ts = np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 0.06, size=40))])
    f = OneEuroFilter(min_cutoff=1.5, beta=0.0, d_cutoff=1.0)
    got = np.array([f(np.array([0.0 if i == 0 else 1.0]), t)[0] for i, t in enumerate(ts)])
    tau = 1 / (2 * np.pi * 1.5)
    alphas = 1 / (1 + tau / np.diff(ts))
    expected = np.concatenate([[0.0], 1 - np.cumprod(1 - alphas)])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)  # float64, values in [0, 1]: ~1e-15 per step


def test_missing_samples_keep_state():
    rng = np.random.default_rng(2)
    ts, xs = _signal(rng, 30, (4, ))
    missing = np.zeros(xs.shape, dtype=bool)
    missing[[5, 6, 7, 20], 1] = True
    missing[0, 2] = True  # missing at the first call: its first finite sample starts it
    f = OneEuroFilter(min_cutoff=1.0, beta=0.1)
    got = np.stack([f(np.where(m, np.nan, x), t) for x, m, t in zip(xs, missing, ts)])

    assert np.isnan(got[missing]).all() and np.isfinite(got[~missing]).all()
    for i in range(4):  # each element equals the reference run on its own finite samples
        keep = ~missing[:, i]
        expected = one_euro_reference(xs[keep, i], ts[keep], min_cutoff=1.0, beta=0.1, d_cutoff=1.0)
        np.testing.assert_allclose(got[keep, i], expected, rtol=0, atol=1e-12)  # as in the reference test
    assert got[1, 2] == xs[1, 2]


def test_reset_and_scalar_shape():
    f = OneEuroFilter(min_cutoff=1.0)
    assert f(np.float64(3.0), 0.0) == 3.0
    assert f(5.0, 0.1).shape == ()
    f.reset()
    np.testing.assert_array_equal(f(np.ones((2, 2)), 0.05), np.ones((2, 2)))  # any shape, any time after reset


@pytest.mark.parametrize('kwargs, match', [
    pytest.param({'min_cutoff': 0.0}, r'min_cutoff must be a finite cutoff > 0 Hz, got min_cutoff=0.0',
                 id='min-cutoff-zero'),
    pytest.param({'d_cutoff': -1.0}, r'd_cutoff must be a finite cutoff > 0 Hz, got d_cutoff=-1.0', id='d-cutoff'),
    pytest.param({'beta': -0.1}, r'beta must be finite and >= 0, got beta=-0.1', id='beta'),
    pytest.param({'min_cutoff': float('nan')}, r'got min_cutoff=nan', id='min-cutoff-nan'),
])
def test_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OneEuroFilter(**kwargs)
    with pytest.raises(ValueError, match=match):
        TrackSmoother(**{'min_cutoff': 1.0, 'beta': 0.0, **kwargs})


def test_refuses_bad_time_and_shape():
    f = OneEuroFilter()
    f(np.zeros(3), 1.0)
    for t in (1.0, 0.5):
        with pytest.raises(ValueError, match=rf'time step t - t_prev must be > 0 s, got t={t} after t_prev=1.0'):
            f(np.zeros(3), t)
    with pytest.raises(ValueError, match=r'must keep the shape \(3,\) of the first call, got shape \(4,\)'):
        f(np.zeros(4), 2.0)
    with pytest.raises(ValueError, match=r'got t=inf'):
        f(np.zeros(3), float('inf'))
    np.testing.assert_allclose(f(np.ones(3), 2.0), np.full(3, 1 / (1 + 1 / (2 * np.pi))))  # refusals kept state


def test_track_smoother_filters_per_track():
    rng = np.random.default_rng(3)
    ts, xs = _signal(rng, 12, (3, 17, 2))  # 3 people, 17 keypoints
    kwargs = dict(min_cutoff=1.0, beta=0.05, d_cutoff=1.0)
    smoother = TrackSmoother(**kwargs)
    filters = {7: OneEuroFilter(**kwargs), 2: OneEuroFilter(**kwargs)}
    for step, (x, t) in enumerate(zip(xs, ts)):
        ids = [7, None, 2] if step % 2 == 0 else [2, -1, 7]  # rows change order; row 1 is never tracked
        rows = x if step % 2 == 0 else x[[2, 1, 0]]
        out = smoother(ids, {'keypoints': rows, 'boxes': rows[:, 0]}, t)
        np.testing.assert_array_equal(out['keypoints'][1], rows[1])
        for row, track_id in enumerate(ids):
            if track_id is not None and track_id >= 0:
                np.testing.assert_array_equal(out['keypoints'][row], filters[track_id](rows[row], t))
        assert out['boxes'].shape == (3, 2)

    # An ended track starts again from its next sample.
    smoother.end([7])
    out = smoother([7], {'keypoints': np.full((1, 17, 2), 5.0)}, ts[-1] + 1)
    np.testing.assert_array_equal(out['keypoints'], np.full((1, 17, 2), 5.0))


def test_track_smoother_refusals():
    smoother = TrackSmoother(min_cutoff=1.0, beta=0.0)
    with pytest.raises(ValueError, match=r"values\['keypoints'\] must have one row per track id \(2\), got shape "
                                         r'\(3, 17, 2\)'):
        smoother([0, 1], {'keypoints': np.zeros((3, 17, 2))}, 0.0)
    with pytest.raises(ValueError, match=r'must not repeat a track id, got \[1, 1\]'):
        smoother([1, 1], {'keypoints': np.zeros((2, 17, 2))}, 0.0)
    smoother([0], {'keypoints': np.zeros((1, 17, 2))}, 1.0)
    with pytest.raises(ValueError, match=r"t must be finite and greater than the previous call's t_prev=1.0 s, "
                                         r'got t=1.0'):
        smoother([0], {'keypoints': np.zeros((1, 17, 2))}, 1.0)
