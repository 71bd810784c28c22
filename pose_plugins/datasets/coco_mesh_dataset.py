"""COCO person keypoints with SMPL parameters per person: top-down data for human mesh recovery."""
from numbers import Real
from typing import Any, Dict, Optional

import numpy as np

from pose_plugins.registry import DATASETS

from .coco_keypoint_3d_dataset import CocoKeypoint3DDataset
from .coco_keypoint_dataset import CocoKeypointDataset
from .transforms.mesh_transforms import GenerateMeshTarget  # noqa: F401  (registers the dataset's transform)

__all__ = ['CocoMeshDataset']

_NUM_POSE, _MM_PER_M = 72, 1000.0


@DATASETS.register_module()
class CocoMeshDataset(CocoKeypointDataset):
    """:class:`CocoKeypointDataset` plus SMPL parameters and optional 3D keypoints per person, top-down.

    Annotations may carry ``smpl_pose`` (72 axis-angle radians, global orientation first, camera frame),
    ``smpl_betas``, ``has_smpl`` (0/1; default 1 when ``smpl_pose`` is present) and ``keypoints_3d`` (K * 3, mm);
    images may carry ``camera_param``. This is the layout of the COCO pseudo-ground-truth SMPL fits (EFT, Joo et al.,
    3DV 2021). Annotations without SMPL fields are 2D-only samples (``has_smpl = 0``).

    Data info fields added (one instance): ``smpl_pose`` (1, 72), ``smpl_betas`` (1, S), ``has_smpl`` (1,),
    ``keypoints_3d`` (1, K, 3) in **metres** (zeros when absent), ``has_keypoints_3d`` (1,), all float32, and
    ``camera_param`` when present. A malformed SMPL or 3D field skips its sample with a warning; a malformed
    ``camera_param`` raises ValueError.

    Args:
        **kwargs: As :class:`CocoKeypointDataset`.
    """

    def parse_data_info(self, raw_data_info: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Parse one annotation as :class:`CocoKeypointDataset` does and add its mesh fields; None if skipped."""
        data_info = super().parse_data_info(raw_data_info)
        if data_info is None:
            return None
        ann, img = raw_data_info['raw_ann_info'], raw_data_info['raw_img_info']
        num_keypoints = data_info['keypoints'].shape[1]
        has_smpl = ann.get('has_smpl', 1 if 'smpl_pose' in ann else 0)
        if has_smpl not in (0, 1):
            return self._reject(ann, img, 'has_smpl', f'{has_smpl!r} is not 0 or 1')
        pose, betas = np.zeros(_NUM_POSE, np.float32), np.zeros(10, np.float32)
        if has_smpl:
            pose = self._numbers(ann.get('smpl_pose'), _NUM_POSE)
            if pose is None:
                return self._reject(ann, img, 'smpl_pose', f'{_short(ann.get("smpl_pose"))} is not {_NUM_POSE} '
                                    'finite numbers (axis-angle of 24 joints)')
            betas = self._numbers(ann.get('smpl_betas'), None)
            if betas is None or betas.size < 1:
                return self._reject(ann, img, 'smpl_betas', f'{_short(ann.get("smpl_betas"))} is not a non-empty '
                                    'list of finite numbers')
        keypoints_3d, has_3d = np.zeros((1, num_keypoints, 3), np.float32), 0.0
        if ann.get('keypoints_3d') is not None:
            values = self._numbers(ann['keypoints_3d'], num_keypoints * 3)
            if values is None:
                return self._reject(ann, img, 'keypoints_3d', f'{_short(ann["keypoints_3d"])} is not '
                                    f'{num_keypoints} * 3 finite numbers (X, Y, Z in mm)')
            keypoints_3d, has_3d = values.reshape(1, num_keypoints, 3) / _MM_PER_M, 1.0
        data_info.update(smpl_pose=pose.reshape(1, -1), smpl_betas=betas.reshape(1, -1),
                         has_smpl=np.array([has_smpl], np.float32), keypoints_3d=keypoints_3d.astype(np.float32),
                         has_keypoints_3d=np.array([has_3d], np.float32))
        if img.get('camera_param') is not None:
            data_info['camera_param'] = CocoKeypoint3DDataset._camera_param(
                img['camera_param'], f'{self.ann_file}, image id {ann["image_id"]} (file {img["file_name"]!r})')
        return data_info

    @staticmethod
    def _numbers(value: Any, size: Optional[int]) -> Optional[np.ndarray]:
        """A flat list of ``size`` (any, if None) finite real numbers as float32, or None."""
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, Real) and not isinstance(v, bool)
                                                           for v in value):
            return None
        array = np.asarray(value, dtype=np.float64)
        if (size is not None and array.shape != (size, )) or not np.all(np.isfinite(array)):
            return None
        return array.astype(np.float32)

    def _reject(self, ann: dict, img: dict, field: str, reason: str) -> None:
        self._skip(ann['id'], img['img_path'], field, reason)
        return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'
