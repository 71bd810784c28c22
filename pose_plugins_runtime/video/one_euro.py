"""The One-Euro filter (Casiez, Roussel, Vogel, "1 Euro Filter: A Simple Speed-based Low-pass Filter for Noisy
Input in Interactive Systems", CHI 2012), element-wise on arrays of a fixed shape."""
import math
from typing import Optional

import numpy as np

__all__ = ['OneEuroFilter']


def _alpha(cutoff: np.ndarray, te: np.ndarray) -> np.ndarray:
    """Smoothing factor of a first-order low-pass with ``cutoff`` (Hz) over time steps ``te`` (s)."""
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / te)


class OneEuroFilter:
    """Speed-adaptive low-pass of a signal sampled at strictly increasing times, each element of the array on its
    own: cutoff ``fc = min_cutoff + beta * |dx_hat|`` (Hz), where ``dx_hat`` is the derivative low-passed at
    ``d_cutoff`` (Hz); ``beta`` is in 1 / (signal units), so ``beta * |dx_hat|`` is in Hz. ``beta = 0`` is a
    first-order low-pass at ``min_cutoff``.

    The paper's equations, with ``Te`` the time since the element's last finite sample:
    ``alpha(fc) = 1 / (1 + tau / Te)``, ``tau = 1 / (2 pi fc)``; ``dx = (x - x_hat_prev) / Te``;
    ``dx_hat = alpha(d_cutoff) dx + (1 - alpha(d_cutoff)) dx_hat_prev``;
    ``x_hat = alpha(fc) x + (1 - alpha(fc)) x_hat_prev``. An element's first finite sample is returned unchanged
    (``dx_hat = 0``). A non-finite sample (NaN: the keypoint is missing in this frame) returns NaN for that element
    and leaves its state as it was.
    """

    def __init__(self, *, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0) -> None:
        for name, value in (('min_cutoff', min_cutoff), ('d_cutoff', d_cutoff)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f'OneEuroFilter: {name} must be a finite cutoff > 0 Hz, got {name}={value!r}')
        if not (math.isfinite(beta) and beta >= 0):
            raise ValueError(f'OneEuroFilter: beta must be finite and >= 0, got beta={beta!r}')
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        """Forget the state: the next call starts a new signal (of any shape)."""
        self._x_hat: Optional[np.ndarray] = None  # NaN where an element has had no finite sample yet
        self._dx_hat: Optional[np.ndarray] = None
        self._t_prev: Optional[np.ndarray] = None  # time of each element's last finite sample (s)
        self._t_last: Optional[float] = None  # time of the last call (s)

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """The filtered ``x`` (any shape, the same at every call) float64 at time ``t`` (s, greater than the
        previous call's)."""
        x = np.asarray(x, dtype=np.float64)
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f'OneEuroFilter: t must be a finite time in seconds, got t={t!r}')
        if self._x_hat is None:
            self._x_hat = np.where(np.isfinite(x), x, np.nan)
            self._dx_hat = np.zeros_like(x)
            self._t_prev = np.full_like(x, t)
            self._t_last = t
            return self._x_hat.copy()
        if x.shape != self._x_hat.shape:
            raise ValueError(f'OneEuroFilter: x must keep the shape {self._x_hat.shape} of the first call, got '
                             f'shape {x.shape} (call reset() for a new signal)')
        if t - self._t_last <= 0:
            raise ValueError(f'OneEuroFilter: the time step t - t_prev must be > 0 s, got t={t!r} after '
                             f't_prev={self._t_last!r}')

        finite = np.isfinite(x)
        fresh = finite & ~np.isfinite(self._x_hat)  # first finite sample of these elements: taken as is
        update = finite & ~fresh
        te = np.where(update, t - self._t_prev, 1.0)  # 1.0: placeholder where not updated, keeps the division finite
        x_prev = np.where(update, self._x_hat, 0.0)
        x_in = np.where(update, x, 0.0)
        dx = (x_in - x_prev) / te
        dx_hat = _alpha(self.d_cutoff, te) * dx + (1 - _alpha(self.d_cutoff, te)) * self._dx_hat
        fc = self.min_cutoff + self.beta * np.abs(dx_hat)
        a = _alpha(fc, te)
        x_hat = a * x_in + (1 - a) * x_prev

        self._x_hat = np.where(update, x_hat, np.where(fresh, x, self._x_hat))
        self._dx_hat = np.where(update, dx_hat, self._dx_hat)
        self._t_prev = np.where(finite, t, self._t_prev)
        self._t_last = t
        return np.where(finite, self._x_hat, np.nan)
