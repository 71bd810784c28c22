"""Top-down mesh-recovery targets: body pose, shape and 3D keypoints through mmpose's flip and affine augmentation.

mmpose's ``RandomFlip`` and ``TopdownAffine`` leave 3D data alone; :class:`GenerateMeshTarget` applies their mirror
and in-plane rotation to the 3D ground truth (as mmpose 0.x's ``MeshRandomFlip`` / ``MeshAffine`` and SPIN did) and
writes the labels of :class:`~pose_plugins.models.heads.MeshRegressionHead`.

Note:
    K: keypoints (17); J: the body model's joints (24 for SMPL); S: its shape parameters; V: its vertices.
"""
from types import MappingProxyType
from typing import Any, Dict, Mapping

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.structures.bbox import get_warp_matrix

from pose_plugins.geometry import axis_angle_to_matrix, matrix_to_axis_angle, mirror_rotations
from pose_plugins.registry import MODELS, TRANSFORMS

__all__ = ['GenerateMeshTarget']

#: What :class:`GenerateMeshTarget` adds to ``PackPoseInputs``' tables: training labels (tensors in
#: ``gt_instance_labels``) and evaluation ground truth (``gt_instances``).
MESH_LABELS: Mapping[str, str] = MappingProxyType({
    name: name for name in ('keypoint_labels', 'keypoint_weights', 'keypoints_3d_labels', 'keypoints_3d_weights',
                            'body_pose_labels', 'body_shape_labels', 'has_body')})
MESH_INSTANCES: Mapping[str, str] = MappingProxyType(dict(
    PackPoseInputs.instance_mapping_table, keypoints_3d='keypoints_3d', vertices='vertices', body_pose='body_pose',
    body_shape='body_shape', has_body='has_body', has_keypoints_3d='has_keypoints_3d'))


@TRANSFORMS.register_module()
class GenerateMeshTarget(BaseTransform):
    """Mirror and rotate the 3D ground truth with the image, and write the mesh head's labels.

    Put it after ``TopdownAffine`` (it reads ``input_center`` / ``input_scale`` / ``input_size``,
    ``bbox_rotation`` and ``RandomFlip``'s ``flip`` / ``flip_direction``). 3D is in the camera frame (X right, Y down,
    Z forward):

    - flip (horizontal): ``keypoints_3d`` X -> -X, left/right swapped (``flip_indices``); the body pose mirrored
      (axis-angle ``(x, y, z) -> (x, -y, -z)``, left/right joints swapped by the body model's ``flip_indices``;
      both body models have x as their left-right axis);
    - rotation: ``theta = atan2(A10, A00)`` of mmpose's affine matrix (whatever the sign convention of
      ``bbox_rotation``) turns ``keypoints_3d`` and the global orientation about Z; the body pose is unchanged.

    Labels (``gt_instance_labels``, flat so that the head stacks them per instance): ``keypoint_labels`` (1, K, 2)
    crop coordinates over the crop size, ``keypoint_weights`` (1, K) visibility, 0 outside the crop (mmpose's
    ``RegressionLabel``); ``keypoints_3d_labels`` (1, K * 3) metres, ``keypoints_3d_weights`` (1, 1);
    ``body_pose_labels`` (1, J * 3) axis-angle, ``body_shape_labels`` (1, S), ``has_body`` (1, 1). Ground truth
    (``gt_instances``): ``keypoints_3d`` (1, K, 3), ``body_pose``, ``body_shape``, ``has_body``,
    ``has_keypoints_3d``; with ``with_vertices`` and a body, ``vertices`` (1, V, 3) and ``keypoints_3d`` from the
    augmented parameters in the head's frame (body model frame turned by the global orientation, metres), so that
    PVE compares joints and vertices in one frame.

    Data without body or 3D fields (e.g. detector boxes) get the body model's neutral parameters and
    ``has_body = has_keypoints_3d = 0``.

    Args:
        body_model (dict): Body-model config (the head's, e.g. ``pose_plugins.SMPL`` or ``pose_plugins.AnnyBody``):
            its joints, mirror pairs and shape size; built on first use.
        with_vertices (bool): Also compute the ground-truth ``vertices`` (evaluation). Defaults to False.
    """

    def __init__(self, *, body_model: Mapping[str, Any], with_vertices: bool = False) -> None:
        super().__init__()
        if not isinstance(body_model, Mapping) or 'type' not in body_model:
            raise ValueError(f'GenerateMeshTarget: body_model must be the head\'s body-model config (a dict with a '
                             f'type, e.g. dict(type=\'pose_plugins.AnnyBody\')), got {body_model!r}')
        self.body_model_cfg = dict(body_model)
        self.with_vertices = bool(with_vertices)
        self._body_model = None

    @property
    def body_model(self) -> Any:
        """The body model of ``body_model_cfg``, built on first use (in eval mode)."""
        if self._body_model is None:
            self._body_model = MODELS.build(self.body_model_cfg).eval()
        return self._body_model

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Add the labels and ground truth (class docstring) to ``results``; inference data (no ``keypoints``,
        e.g. mmpose's ``inference_topdown``) pass unchanged."""
        if results.get('keypoints') is None:
            return results
        for key in ('input_size', 'input_center', 'input_scale', 'transformed_keypoints'):
            if key not in results:
                raise KeyError(f'GenerateMeshTarget needs {key!r} from TopdownAffine; put it after TopdownAffine '
                               f'(img {results.get("img_path")!r})')
        num_keypoints = results['keypoints_visible'].shape[1]
        body = self.body_model
        has_body = np.asarray(results.get('has_body', np.zeros(1)), dtype=np.float32).reshape(1)
        if has_body[0] > 0:
            pose = np.asarray(results['body_pose'], dtype=np.float32).reshape(1, -1)
            betas = np.asarray(results['body_shape'], dtype=np.float32).reshape(1, -1)
            if pose.shape[1] != 3 * body.num_joints or betas.shape[1] != body.num_shape:
                raise ValueError(f'GenerateMeshTarget: img {results.get("img_path")!r} has a body_pose of '
                                 f'{pose.shape[1]} and a body_shape of {betas.shape[1]} numbers, but the body model '
                                 f'{type(body).__name__} has {body.num_joints} joints (pose {3 * body.num_joints}) '
                                 f'and {body.num_shape} shape parameters: the data and the config name different '
                                 'body models')
        else:
            pose = matrix_to_axis_angle(body.neutral_rotmat()).reshape(1, -1).numpy()
            betas = np.asarray(body.neutral_shape, dtype=np.float32).reshape(1, -1)
        kpts_3d = np.asarray(results.get('keypoints_3d', np.zeros((1, num_keypoints, 3))),
                             dtype=np.float32).reshape(1, num_keypoints, 3)
        has_3d = np.asarray(results.get('has_keypoints_3d', np.zeros(1)), dtype=np.float32).reshape(1)

        rotmat = axis_angle_to_matrix(torch.from_numpy(pose).reshape(1, body.num_joints, 3))
        if results.get('flip', False):
            if results.get('flip_direction') != 'horizontal':
                raise ValueError(f'GenerateMeshTarget supports horizontal flips only, got flip_direction='
                                 f'{results.get("flip_direction")!r} (img {results.get("img_path")!r})')
            rotmat = mirror_rotations(rotmat, body.flip_indices)
            kpts_3d = kpts_3d[:, list(results['flip_indices'])] * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
        rotation = results.get('bbox_rotation', np.zeros(1))
        warp = get_warp_matrix(np.asarray(results['input_center'], dtype=np.float32),
                               np.asarray(results['input_scale'], dtype=np.float32), float(np.asarray(rotation)[0]),
                               output_size=results['input_size'])
        theta = float(np.arctan2(warp[1, 0], warp[0, 0]))
        if abs(theta) > 1e-9:
            turn = np.eye(3, dtype=np.float32)
            turn[:2, :2] = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
            kpts_3d = kpts_3d @ turn.T
            rotmat = rotmat.clone()
            rotmat[:, 0] = torch.from_numpy(turn) @ rotmat[:, 0]
        pose = matrix_to_axis_angle(rotmat).reshape(1, -1).numpy()

        size = np.asarray(results['input_size'], dtype=np.float32)
        coords = np.asarray(results['transformed_keypoints'], dtype=np.float32)[..., :2]
        inside = np.all((coords >= 0) & (coords <= size - 1), axis=-1)
        results.update(
            keypoint_labels=coords / size,
            keypoint_weights=np.asarray(results['keypoints_visible'], dtype=np.float32) * inside,
            keypoints_3d_labels=kpts_3d.reshape(1, -1), keypoints_3d_weights=has_3d.reshape(1, 1),
            body_pose_labels=pose, body_shape_labels=betas, has_body=has_body.reshape(1, 1),
            keypoints_3d=kpts_3d, body_pose=pose, body_shape=betas, has_keypoints_3d=has_3d,
            label_mapping_table=dict(MESH_LABELS), instance_mapping_table=dict(MESH_INSTANCES))
        if self.with_vertices and has_body[0] > 0:
            with torch.no_grad():
                out = body(shape=torch.from_numpy(betas), rotmat=rotmat)
            # in one frame (the body model's, no translation), as the mesh metric's PVE needs
            results['vertices'] = out['vertices'].numpy().astype(np.float32)
            results['keypoints_3d'] = out['keypoints'].numpy().astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(body_model={self.body_model_cfg!r}, with_vertices={self.with_vertices})'
