"""The start of an HMR / SPIN regressor: a body model's mean parameters, from a SPIN-format ``.npz`` or neutral."""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from pose_plugins.geometry import matrix_to_rotation_6d
from .body_model import BodyModel

__all__ = ['NEUTRAL_CAMERA', 'load_mean_params']

#: SPIN's mean camera ``(s, tx, ty)`` (s = 0.9), the neutral start's.
NEUTRAL_CAMERA: Tuple[float, float, float] = (0.9, 0.0, 0.0)


def load_mean_params(path: Optional[str], body_model: BodyModel) -> Tuple[Tensor, Tensor, Tensor]:
    """Mean parameters of ``body_model`` from a SPIN-format ``.npz`` (``pose`` 6D per joint, ``shape``, ``cam``;
    SPIN's ``smpl_mean_params.npz`` for SMPL), or the neutral start when ``path`` is None: the body upright and
    facing the camera (:meth:`~.body_model.BodyModel.neutral_rotmat`), its ``neutral_shape`` and
    :data:`NEUTRAL_CAMERA`.

    Returns:
        Tuple[Tensor, Tensor, Tensor]: pose (6 J,) in the 6D layout of :mod:`pose_plugins.geometry`, shape (S,),
        camera (3,) ``(s, tx, ty)``; float32.

    Raises:
        ValueError: naming the file and the array that is missing, of the wrong size or not finite.
    """
    num_joints, num_betas = body_model.num_joints, body_model.num_shape
    if path is None:
        pose = matrix_to_rotation_6d(body_model.neutral_rotmat()[0]).reshape(-1)
        return pose.float(), torch.tensor(body_model.neutral_shape, dtype=torch.float32), torch.tensor(NEUTRAL_CAMERA)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.asarray(data[key], dtype=np.float32).reshape(-1) for key in ('pose', 'shape', 'cam')}
    except KeyError as err:
        raise ValueError(f'MeshRegressionHead: mean_params {path} has no array {err} (a SPIN-format .npz of '
                         f'{type(body_model).__name__} needs "pose" ({6 * num_joints},), "shape" ({num_betas},) and '
                         '"cam" (3,))') from err
    except (OSError, ValueError) as err:
        raise ValueError(f'MeshRegressionHead: mean_params {path} is not a readable .npz ({err})') from err
    expected = dict(pose=6 * num_joints, shape=num_betas, cam=3)
    for key, size in expected.items():
        if arrays[key].size != size or not np.isfinite(arrays[key]).all():
            raise ValueError(f'MeshRegressionHead: mean_params {path}: "{key}" has {arrays[key].size} values '
                             f'(finite: {bool(np.isfinite(arrays[key]).all())}); expected {size} finite values for '
                             f'{type(body_model).__name__} ({num_joints} joints, {num_betas} shape parameters)')
    return tuple(torch.from_numpy(arrays[key]) for key in ('pose', 'shape', 'cam'))
