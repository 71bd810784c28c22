"""The start of an HMR / SPIN regressor: mean SMPL parameters, from SPIN's ``smpl_mean_params.npz`` or neutral."""
from types import MappingProxyType
from typing import Mapping, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

__all__ = ['NEUTRAL_MEAN_PARAMS', 'load_mean_params']

#: The neutral start: the body upright and facing the camera (the root a half turn about x, from SMPL's y-up frame
#: to the camera's y-down one), every other joint at rest, the mean shape, and SPIN's mean camera (s = 0.9).
NEUTRAL_MEAN_PARAMS: Mapping[str, Tuple[float, ...]] = MappingProxyType(dict(
    global_orient_6d=(1.0, 0.0, 0.0, -1.0, 0.0, 0.0), body_pose_6d=(1.0, 0.0, 0.0, 1.0, 0.0, 0.0),
    camera=(0.9, 0.0, 0.0)))


def load_mean_params(path: Optional[str], *, num_joints: int, num_betas: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Mean parameters of a SPIN-format ``.npz`` (``pose`` 6D per joint, ``shape``, ``cam``), or
    :data:`NEUTRAL_MEAN_PARAMS` when ``path`` is None.

    Returns:
        Tuple[Tensor, Tensor, Tensor]: pose (6 J,) in the 6D layout of :mod:`pose_plugins.geometry`, shape (S,),
        camera (3,) ``(s, tx, ty)``; float32.

    Raises:
        ValueError: naming the file and the array that is missing, of the wrong size or not finite.
    """
    if path is None:
        neutral = NEUTRAL_MEAN_PARAMS
        pose = torch.tensor(neutral['global_orient_6d'] + neutral['body_pose_6d'] * (num_joints - 1))
        return pose, torch.zeros(num_betas), torch.tensor(neutral['camera'])
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.asarray(data[key], dtype=np.float32).reshape(-1) for key in ('pose', 'shape', 'cam')}
    except KeyError as err:
        raise ValueError(f'SMPLRegressionHead: mean_params {path} has no array {err} (a SPIN-format .npz needs '
                         f'"pose" ({6 * num_joints},), "shape" ({num_betas},) and "cam" (3,))') from err
    except (OSError, ValueError) as err:
        raise ValueError(f'SMPLRegressionHead: mean_params {path} is not a readable .npz ({err})') from err
    expected = dict(pose=6 * num_joints, shape=num_betas, cam=3)
    for key, size in expected.items():
        if arrays[key].size != size or not np.isfinite(arrays[key]).all():
            raise ValueError(f'SMPLRegressionHead: mean_params {path}: "{key}" has {arrays[key].size} values '
                             f'(finite: {bool(np.isfinite(arrays[key]).all())}); expected {size} finite values')
    return tuple(torch.from_numpy(arrays[key]) for key in ('pose', 'shape', 'cam'))
