"""Top-down mesh-recovery targets: SMPL pose, shape and 3D keypoints through mmpose's flip and affine augmentation.

mmpose's ``RandomFlip`` and ``TopdownAffine`` leave 3D data alone; :class:`GenerateMeshTarget` applies their mirror
and in-plane rotation to the 3D ground truth (as mmpose 0.x's ``MeshRandomFlip`` / ``MeshAffine`` and SPIN did) and
writes the labels of :class:`~pose_plugins.models.heads.SMPLRegressionHead`.

Note:
    K: keypoints (17); J: 24 SMPL joints; S: shape coefficients (10); V: vertices of the body model.
"""
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.structures.bbox import get_warp_matrix

from pose_plugins.geometry import axis_angle_to_matrix, matrix_to_axis_angle, mirror_rotations
from pose_plugins.body_models.smpl_format import SMPL_FLIP_INDICES
from pose_plugins.registry import MODELS, TRANSFORMS

__all__ = ['GenerateMeshTarget']

#: What :class:`GenerateMeshTarget` adds to ``PackPoseInputs``' tables: training labels (tensors in
#: ``gt_instance_labels``) and evaluation ground truth (``gt_instances``).
MESH_LABELS: Mapping[str, str] = MappingProxyType({
    name: name for name in ('keypoint_labels', 'keypoint_weights', 'keypoints_3d_labels', 'keypoints_3d_weights',
                            'smpl_pose_labels', 'smpl_betas_labels', 'has_smpl')})
MESH_INSTANCES: Mapping[str, str] = MappingProxyType(dict(
    PackPoseInputs.instance_mapping_table, keypoints_3d='keypoints_3d', vertices='vertices', smpl_pose='smpl_pose',
    smpl_betas='smpl_betas', has_smpl='has_smpl', has_keypoints_3d='has_keypoints_3d'))


@TRANSFORMS.register_module()
class GenerateMeshTarget(BaseTransform):
    """Mirror and rotate the 3D ground truth with the image, and write the mesh head's labels.

    Put it after ``TopdownAffine`` (it reads ``input_center`` / ``input_scale`` / ``input_size``,
    ``bbox_rotation`` and ``RandomFlip``'s ``flip`` / ``flip_direction``). 3D is in the camera frame (X right, Y down,
    Z forward):

    - flip (horizontal): ``keypoints_3d`` X -> -X, left/right swapped (``flip_indices``); the SMPL pose mirrored
      (axis-angle ``(x, y, z) -> (x, -y, -z)``, left/right joints swapped);
    - rotation: ``theta = atan2(A10, A00)`` of mmpose's affine matrix (whatever the sign convention of
      ``bbox_rotation``) turns ``keypoints_3d`` and the global orientation about Z; the body pose is unchanged.

    Labels (``gt_instance_labels``, flat so that the head stacks them per instance): ``keypoint_labels`` (1, K, 2)
    crop coordinates over the crop size, ``keypoint_weights`` (1, K) visibility, 0 outside the crop (mmpose's
    ``RegressionLabel``); ``keypoints_3d_labels`` (1, K * 3) metres, ``keypoints_3d_weights`` (1, 1);
    ``smpl_pose_labels`` (1, 72) axis-angle, ``smpl_betas_labels`` (1, S), ``has_smpl`` (1, 1). Ground truth
    (``gt_instances``): ``keypoints_3d`` (1, K, 3), ``smpl_pose``, ``smpl_betas``, ``has_smpl``,
    ``has_keypoints_3d``; with ``body_model`` and SMPL, ``vertices`` (1, V, 3) and ``keypoints_3d`` from the
    augmented parameters in the head's frame (body model frame turned by the global orientation, metres), so that
    PVE compares joints and vertices in one frame.

    Data without SMPL or 3D fields (e.g. detector boxes) get zeros and ``has_smpl = has_keypoints_3d = 0``.

    Args:
        body_model (dict, optional): Body-model config (``pose_plugins.SMPL``, the head's) to compute the
            ground-truth ``vertices`` for evaluation; built on first use. ``None``: no vertices (training).
        num_betas (int): Shape coefficients S of samples without SMPL. Defaults to 10.
    """

    def __init__(self, *, body_model: Optional[Mapping[str, Any]] = None, num_betas: int = 10) -> None:
        super().__init__()
        self.body_model_cfg = None if body_model is None else dict(body_model)
        self.num_betas = num_betas
        self._body_model = None

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
        pose = np.asarray(results.get('smpl_pose', np.zeros((1, 72))), dtype=np.float32).reshape(1, 72)
        betas = np.asarray(results.get('smpl_betas', np.zeros((1, self.num_betas))),
                           dtype=np.float32).reshape(1, -1)
        has_smpl = np.asarray(results.get('has_smpl', np.zeros(1)), dtype=np.float32).reshape(1)
        kpts_3d = np.asarray(results.get('keypoints_3d', np.zeros((1, num_keypoints, 3))),
                             dtype=np.float32).reshape(1, num_keypoints, 3)
        has_3d = np.asarray(results.get('has_keypoints_3d', np.zeros(1)), dtype=np.float32).reshape(1)

        rotmat = axis_angle_to_matrix(torch.from_numpy(pose).reshape(1, 24, 3))
        if results.get('flip', False):
            if results.get('flip_direction') != 'horizontal':
                raise ValueError(f'GenerateMeshTarget supports horizontal flips only, got flip_direction='
                                 f'{results.get("flip_direction")!r} (img {results.get("img_path")!r})')
            rotmat = mirror_rotations(rotmat, SMPL_FLIP_INDICES)
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
        pose = matrix_to_axis_angle(rotmat).reshape(1, 72).numpy()

        size = np.asarray(results['input_size'], dtype=np.float32)
        coords = np.asarray(results['transformed_keypoints'], dtype=np.float32)[..., :2]
        inside = np.all((coords >= 0) & (coords <= size - 1), axis=-1)
        results.update(
            keypoint_labels=coords / size,
            keypoint_weights=np.asarray(results['keypoints_visible'], dtype=np.float32) * inside,
            keypoints_3d_labels=kpts_3d.reshape(1, -1), keypoints_3d_weights=has_3d.reshape(1, 1),
            smpl_pose_labels=pose, smpl_betas_labels=betas, has_smpl=has_smpl.reshape(1, 1),
            keypoints_3d=kpts_3d, smpl_pose=pose, smpl_betas=betas, has_keypoints_3d=has_3d,
            label_mapping_table=dict(MESH_LABELS), instance_mapping_table=dict(MESH_INSTANCES))
        if self.body_model_cfg is not None and has_smpl[0] > 0:
            results['vertices'], results['keypoints_3d'] = self._body(rotmat, betas)
        return results

    def _body(self, rotmat: torch.Tensor, betas: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Vertices (1, V, 3) and COCO keypoints (1, K, 3) of the ground-truth parameters (rotmat (1, 24, 3, 3),
        betas (1, S)), in one frame (the body model's, no translation), as the mesh metric's PVE needs."""
        if self._body_model is None:
            self._body_model = MODELS.build(self.body_model_cfg).eval()
        with torch.no_grad():
            out = self._body_model(betas=torch.from_numpy(betas), body_pose=rotmat[:, 1:],
                                   global_orient=rotmat[:, :1])
        return out['vertices'].numpy().astype(np.float32), out['keypoints'].numpy().astype(np.float32)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(body_model={self.body_model_cfg!r}, num_betas={self.num_betas})'
