"""mmpose's ``RandomBBoxTransform`` with a cheap truncated-normal sampler (same distribution, same draws)."""
from typing import Tuple, Union

import numpy as np
from mmpose.datasets.transforms import RandomBBoxTransform as MMPoseRandomBBoxTransform
from scipy.special import ndtr, ndtri

from pose_plugins.registry import TRANSFORMS

__all__ = ['RandomBBoxTransform', 'truncnorm_rvs']


def truncnorm_rvs(*, low: float, high: float, size: Union[int, Tuple[int, ...]]) -> np.ndarray:
    """Draws of the standard normal truncated to ``[low, high]``, by the inverse CDF of one uniform each.

    Same uniforms (numpy's global ``RandomState``) and values as ``scipy.stats.truncnorm.rvs`` on ``[-1, 1]``
    after a float32 cast; imprecise far in a tail (``Phi(high) - Phi(low) < ~1e-10``).

    Args:
        low, high (float): Bounds in standard deviations, ``low < high``.
        size (int | tuple): Output shape.

    Returns:
        np.ndarray: float64, shape ``size``.

    Raises:
        ValueError: ``low >= high``.
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
    """mmpose's ``RandomBBoxTransform`` (same arguments, same results for the same numpy seed) drawing from
    :func:`truncnorm_rvs` instead of ``scipy.stats.truncnorm.rvs``, which is far slower per call."""

    @staticmethod
    def _truncnorm(low: float = -1., high: float = 1., size: Tuple[int, ...] = ()) -> np.ndarray:
        return truncnorm_rvs(low=low, high=high, size=size).astype(np.float32)
