"""The body-model interface of mesh recovery: shape parameters and joint rotations in, posed mesh out.

The mesh head, its losses, the mesh targets, the metrics, the drawing, the synthetic mesh people and the ONNX
export read a body model only through :class:`BodyModel`, so SMPL (:class:`~.smpl.SMPL`, the user's file) and Anny
(:class:`~.anny_body.AnnyBody`, the installed ``anny`` package) are interchangeable in a config.
"""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from .smpl_format import COCO_KEYPOINT_NAMES

__all__ = ['BodyModel']


class BodyModel(nn.Module):
    """A parametric body as a layer without trainable parameters.

    A subclass sets the attributes below in its ``__init__`` (after ``super().__init__()``) and implements
    :meth:`pose_body`; :meth:`forward` checks the inputs once for every body model.

    Note:
        B: batch size; J: the posed joints (joint 0 is the root: its rotation is the global orientation); S:
        shape parameters; V: vertices; T: triangles; K: COCO's 17 keypoints.

    Attributes:
        name (str): The body model's name as the data and the predictions carry it (``'smpl'``, ``'anny'``).
        joint_names (Tuple[str, ...]): The J joints whose rotations the head regresses, root first.
        parents (Tuple[int, ...]): (J,) each joint's parent among them, -1 for the root.
        flip_indices (Tuple[int, ...]): (J,) each joint's left / right mirror partner (itself on the midline).
        shape_names (Tuple[str, ...]): The S shape parameters (SMPL's betas, Anny's phenotypes).
        neutral_shape (Tuple[float, ...]): (S,) the shape the regressor starts from and the shape prior pulls to.
        shape_range (Tuple[float, float], optional): The interval the model reads shape parameters in (values
            outside are clamped by the model), None when unbounded.
        upright (Tuple[Tuple[float, ...], ...]): (3, 3) the root rotation that shows the body upright and facing
            the camera (camera frame: x right, y down, z forward), the neutral start of the head.
        faces (np.ndarray): (T, 3) int64, read-only, counter-clockwise seen from outside.
        num_vertices (int): V.
    """

    keypoint_names: Tuple[str, ...] = COCO_KEYPOINT_NAMES

    name: str
    joint_names: Tuple[str, ...]
    parents: Tuple[int, ...]
    flip_indices: Tuple[int, ...]
    shape_names: Tuple[str, ...]
    neutral_shape: Tuple[float, ...]
    shape_range: Optional[Tuple[float, float]] = None
    upright: Tuple[Tuple[float, ...], ...]
    faces: np.ndarray
    num_vertices: int

    @property
    def num_joints(self) -> int:
        """J."""
        return len(self.joint_names)

    @property
    def num_shape(self) -> int:
        """S."""
        return len(self.shape_names)

    def forward(self, *, shape: Tensor, rotmat: Tensor) -> Dict[str, Tensor]:
        """Pose and shape the body.

        Args:
            shape (Tensor): Shape parameters, (B, S).
            rotmat (Tensor): Rotation matrices of the J joints relative to their parents (the root's: the global
                orientation), (B, J, 3, 3). Both are cast to the layer's floating dtype.

        Returns:
            Dict[str, Tensor]: ``vertices`` (B, V, 3); ``joints`` (B, J, 3) the posed joints; ``keypoints``
            (B, K, 3) COCO's keypoints on the mesh. Metres, the model frame turned by the root, no translation.

        Raises:
            ValueError: naming the argument whose shape is wrong.
        """
        batch = shape.shape[0] if shape.ndim == 2 else -1
        expected = dict(shape=(batch, self.num_shape), rotmat=(batch, self.num_joints, 3, 3))
        for arg, tensor in dict(shape=shape, rotmat=rotmat).items():
            if tuple(tensor.shape) != expected[arg] or batch < 1:
                dims = ', '.join(str(n) for n in expected[arg][1:])
                raise ValueError(f'{type(self).__name__}.forward: {arg} must have shape (B, {dims}) with the batch '
                                 f'size B of shape, got {tuple(tensor.shape)}')
        return self.pose_body(shape, rotmat)

    def pose_body(self, shape: Tensor, rotmat: Tensor) -> Dict[str, Tensor]:
        """:meth:`forward` after its checks; implemented by each body model."""
        raise NotImplementedError

    def joint_weights(self) -> Tensor:
        """(V, J) each vertex's skinning weights over the J posed joints (a row sums to 1); implemented by each body
        model."""
        raise NotImplementedError

    def neutral_rotmat(self, batch: int = 1) -> Tensor:
        """(batch, J, 3, 3) the neutral pose: the root :attr:`upright`, every other joint at rest (identity)."""
        rotmat = torch.eye(3).repeat(batch, self.num_joints, 1, 1)
        rotmat[:, 0] = torch.tensor(self.upright, dtype=rotmat.dtype)
        return rotmat
