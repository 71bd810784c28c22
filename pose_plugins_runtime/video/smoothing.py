"""One-Euro smoothing of per-person values (keypoints, boxes, ...) along their tracks."""
import math
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np

from .one_euro import OneEuroFilter

__all__ = ['TrackSmoother']


class TrackSmoother:
    """One :class:`OneEuroFilter` (``min_cutoff``, ``d_cutoff`` in Hz, ``beta`` in 1 / value units) per
    (track id, field), created at a track's first frame. A person row whose track id is ``None`` or negative is
    returned unchanged; non-finite entries (missing keypoints) stay NaN and leave that entry's state as it was.
    """

    def __init__(self, *, min_cutoff: float, beta: float, d_cutoff: float = 1.0) -> None:
        OneEuroFilter(min_cutoff=min_cutoff, beta=beta, d_cutoff=d_cutoff)  # refuses bad values now, not per track
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._filters: Dict[Tuple[int, str], OneEuroFilter] = {}
        self._t_last: Optional[float] = None

    def __call__(self, track_ids: Sequence[Optional[int]], values: Dict[str, np.ndarray],
                 t: float) -> Dict[str, np.ndarray]:
        """Smoothed copies (float64, same shapes) of ``values``, each field (M, ...) one row per person, the M
        people of ``track_ids`` (M, ) at time ``t`` (s, increasing from call to call)."""
        t = float(t)
        if not math.isfinite(t) or (self._t_last is not None and t <= self._t_last):
            raise ValueError(f'TrackSmoother: t must be finite and greater than the previous call\'s '
                             f't_prev={self._t_last!r} s, got t={t!r}')
        ids = [None if i is None or int(i) < 0 else int(i) for i in track_ids]
        tracked = [i for i in ids if i is not None]
        if len(set(tracked)) != len(tracked):
            raise ValueError(f'TrackSmoother: track_ids must not repeat a track id, got {list(track_ids)}')
        out = {}
        for field, value in values.items():
            value = np.asarray(value, dtype=np.float64)
            if value.ndim == 0 or len(value) != len(ids):
                raise ValueError(f'TrackSmoother: values[{field!r}] must have one row per track id '
                                 f'({len(ids)}), got shape {value.shape}')
            out[field] = value.copy()
        for row, track_id in enumerate(ids):  # one filter per person (each filters all its keypoints at once)
            if track_id is None:
                continue
            for field, value in out.items():
                key = (track_id, field)
                if key not in self._filters:
                    self._filters[key] = OneEuroFilter(min_cutoff=self.min_cutoff, beta=self.beta,
                                                       d_cutoff=self.d_cutoff)
                value[row] = self._filters[key](value[row], t)
        self._t_last = t
        return out

    def end(self, track_ids: Iterable[int]) -> None:
        """Forget the filters of ``track_ids`` (ended tracks); ids never seen are ignored."""
        ended = {int(i) for i in track_ids}
        self._filters = {key: f for key, f in self._filters.items() if key[0] not in ended}

    def reset(self) -> None:
        """Forget every track (the next call may start again at any time)."""
        self._filters = {}
        self._t_last = None
