"""mmpose's ``RandomBBoxTransform`` with a cheap truncated-normal sampler (same distribution, same draws)."""
from typing import Tuple, Union

import numpy as np
from mmpose.datasets.transforms import RandomBBoxTransform as MMPoseRandomBBoxTransform
from scipy.special import ndtr, ndtri

from pose_plugins.registry import TRANSFORMS

__all__ = ['RandomBBoxTransform', 'truncnorm_rvs']


def truncnorm_rvs(*, low: float, high: float, size: Union[int, Tuple[int, ...]]) -> np.ndarray:
    """Draws of the standard normal truncated to ``[low, high]``, by the inverse CDF of one uniform each.

    This is the algorithm of ``scipy.stats.truncnorm.rvs(low, high, size=size)`` (scipy 1.17: ``U =
    random_state.uniform(size=size)`` from numpy's global ``RandomState`` when no ``random_state`` is given, then
    ``ppf(U)``), without scipy's generic argument handling (about 0.5 ms a call, 98% of the work for the six numbers
    a top-down sample needs): the same uniforms from the same stream, so the rest of the pipeline's draws are
    unchanged, and ``ppf(U) = ndtri(Phi(low) + U (Phi(high) - Phi(low)))`` (for ``low >= 0`` the mirrored form
    ``-ndtri(Phi(-high) + (1 - U) (Phi(-low) - Phi(-high)))``, as scipy switches to the right tail there). scipy
    evaluates the same function in log space; for the ``[-1, 1]`` of ``RandomBBoxTransform`` the two agree to
    ~1e-16, bit for bit after mmpose's cast to float32 (tested with a fixed seed, besides a Kolmogorov-Smirnov
    test against scipy's CDF). Far in a tail (``Phi(high) - Phi(low)`` below ~1e-10) the linear form loses
    precision: use scipy there.

    Args:
        low (float): Lower bound, in standard deviations, < ``high``.
        high (float): Upper bound.
        size (int | tuple): Output shape.

    Returns:
        np.ndarray: float64, shape ``size``.
    """
    if not low < high:
        raise ValueError(f'truncnorm_rvs: low must be < high, got low={low!r}, high={high!r}')
    uniform = np.random.uniform(size=size)
    if low >= 0:  # right tail: mirror, so that Phi is evaluated where it is accurate
        return -truncnorm_ppf(1 - uniform, low=-high, high=-low)
    return truncnorm_ppf(uniform, low=low, high=high)


def truncnorm_ppf(q: np.ndarray, *, low: float, high: float) -> np.ndarray:
    """Quantiles ``q`` (any shape, in [0, 1]) of the standard normal truncated to ``[low, high]`` (``low < 0``)."""
    phi_low, phi_high = ndtr(low), ndtr(high)
    return ndtri(phi_low + q * (phi_high - phi_low))


@TRANSFORMS.register_module()
class RandomBBoxTransform(MMPoseRandomBBoxTransform):
    """mmpose's ``RandomBBoxTransform`` (random shift, scale and rotation of the boxes, the same arguments and
    the same results for the same numpy seed), with its truncated-normal draws from :func:`truncnorm_rvs`
    instead of ``scipy.stats.truncnorm.rvs``: about 10 us instead of 0.5 ms a sample.

    Config: ``dict(type='pose_plugins.RandomBBoxTransform', ...)`` where mmpose's configs write
    ``dict(type='RandomBBoxTransform', ...)``.
    """

    @staticmethod
    def _truncnorm(low: float = -1., high: float = 1., size: Tuple[int, ...] = ()) -> np.ndarray:
        """float32 draws of N(0, 1) truncated to ``[low, high]``, shape ``size`` (mmpose's signature)."""
        return truncnorm_rvs(low=low, high=high, size=size).astype(np.float32)
