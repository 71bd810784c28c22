"""The losses of HMR-style mesh recovery, as one module built from one config entry per term."""
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional

import torch
from torch import Tensor, nn

from pose_plugins.body_models.body_model import BodyModel
from pose_plugins.geometry import axis_angle_to_matrix
from pose_plugins.registry import MODELS

__all__ = ['MeshLoss', 'DEFAULT_MESH_LOSSES']


def _frozen(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(cfg))


#: Reference settings: mmpose 0.x's HMR (``res50_mixed_224x224.py``: 2D 100, 3D 1000, vertices 20, pose 30, betas
#: 0.2) and SPIN's shape prior (0.001). The 2D term is on coordinates in [-1, 1] as there.
DEFAULT_MESH_LOSSES: Mapping[str, Mapping[str, Any]] = MappingProxyType(dict(
    loss_keypoints_2d=_frozen(dict(type='pose_plugins.MaskedRegressionLoss', criterion='smooth_l1', loss_weight=100.)),
    loss_keypoints_3d=_frozen(dict(type='pose_plugins.RootRelativeJointLoss', loss_weight=1000.)),
    loss_body_pose=_frozen(dict(type='pose_plugins.MaskedRegressionLoss', criterion='mse', loss_weight=30.)),
    loss_body_shape=_frozen(dict(type='pose_plugins.MaskedRegressionLoss', criterion='mse', loss_weight=0.2)),
    loss_vertices=_frozen(dict(type='pose_plugins.MaskedRegressionLoss', criterion='l1', loss_weight=20.)),
    loss_shape_prior=_frozen(dict(type='pose_plugins.ShapePriorLoss', loss_weight=0.001))))


class MeshLoss(nn.Module):
    """2D reprojection of the keypoints (masked by visibility), root-relative 3D keypoints where a sample has them,
    the body model's rotations and shape parameters and the ground-truth body's vertices where ``has_body``, and
    the shape prior (on the shape's offset from the body model's ``neutral_shape``).

    Note:
        B: batch size; K: keypoints; J: body-model joints; V: vertices; S: shape parameters.

    Args:
        terms (Mapping[str, dict | None]): A config per term of :data:`DEFAULT_MESH_LOSSES`; a missing or None
            entry takes the default; a config with ``type=None`` or ``loss_weight=0`` switches the term off.
    """

    def __init__(self, *, terms: Optional[Mapping[str, Optional[Mapping[str, Any]]]] = None) -> None:
        super().__init__()
        terms = dict(terms or {})
        unknown = set(terms) - set(DEFAULT_MESH_LOSSES)
        if unknown:
            raise ValueError(f'MeshLoss: unknown loss terms {sorted(unknown)}; known: {sorted(DEFAULT_MESH_LOSSES)}')
        for name, default in DEFAULT_MESH_LOSSES.items():
            cfg = dict(default if terms.get(name) is None else terms[name])
            off = cfg.get('type') is None or cfg.get('loss_weight', 1.0) == 0
            setattr(self, name, None if off else MODELS.build(cfg))

    def forward(self, outputs: Mapping[str, Tensor], targets: Mapping[str, Tensor],
                body_model: BodyModel) -> Dict[str, Tensor]:
        """The configured terms.

        Args:
            outputs (Mapping): ``keypoints_2d`` (B, K, 2) over the crop size, ``keypoints_3d`` (B, K, 3) metres,
                ``rotmat`` (B, J, 3, 3), ``shape`` (B, S), ``vertices`` (B, V, 3).
            targets (Mapping): ``keypoint_labels`` (B, K, 2), ``keypoint_weights`` (B, K), ``keypoints_3d_labels``
                (B, K * 3), ``keypoints_3d_weights`` (B, 1), ``body_pose_labels`` (B, J * 3) axis-angle,
                ``body_shape_labels`` (B, S), ``has_body`` (B, 1).
            body_model (BodyModel): The head's body model: the ground-truth vertices and the neutral shape.

        Returns:
            dict: ``loss_kpt_2d``, ``loss_kpt_3d``, ``loss_body_pose``, ``loss_body_shape``, ``loss_vertices``,
            ``loss_shape_prior``: those configured, scalars.
        """
        batch, num_joints = outputs['rotmat'].shape[:2]
        losses = {}
        if self.loss_keypoints_2d is not None:  # on [-1, 1] crop coordinates, as HMR / mmpose 0.x
            losses['loss_kpt_2d'] = self.loss_keypoints_2d(2.0 * outputs['keypoints_2d'] - 1.0,
                                                           2.0 * targets['keypoint_labels'] - 1.0,
                                                           targets['keypoint_weights'])
        if self.loss_keypoints_3d is not None:
            gt = targets['keypoints_3d_labels'].reshape(batch, -1, 3)
            losses['loss_kpt_3d'] = self.loss_keypoints_3d(outputs['keypoints_3d'], gt,
                                                           targets['keypoints_3d_weights'].reshape(batch))
        has_body = targets['has_body'].reshape(batch)
        gt_rotmat = axis_angle_to_matrix(targets['body_pose_labels'].reshape(batch, num_joints, 3))
        gt_betas = targets['body_shape_labels']
        if self.loss_body_pose is not None:
            losses['loss_body_pose'] = self.loss_body_pose(outputs['rotmat'], gt_rotmat, has_body)
        if self.loss_body_shape is not None:
            losses['loss_body_shape'] = self.loss_body_shape(outputs['shape'], gt_betas, has_body)
        if self.loss_vertices is not None:
            with torch.no_grad():
                gt_vertices = body_model(shape=gt_betas, rotmat=gt_rotmat)['vertices']
            losses['loss_vertices'] = self.loss_vertices(outputs['vertices'], gt_vertices, has_body)
        if self.loss_shape_prior is not None:
            losses['loss_shape_prior'] = self.loss_shape_prior(
                outputs['shape'] - outputs['shape'].new_tensor(body_model.neutral_shape))
        return losses
