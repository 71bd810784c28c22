"""COCO person keypoints with body-model parameters per person: top-down data for human mesh recovery."""
from numbers import Real
from typing import Any, Dict, Optional

import numpy as np

from pose_plugins.registry import DATASETS

from .coco_keypoint_3d_dataset import CocoKeypoint3DDataset
from .coco_keypoint_dataset import CocoKeypointDataset
from .transforms.mesh_transforms import GenerateMeshTarget  # noqa: F401  (registers the dataset's transform)

__all__ = ['CocoMeshDataset']

_MM_PER_M = 1000.0
#: The annotation fields of a person's body parameters: the generic layout (any body model) and SMPL's published
#: one (EFT / SPIN / CLIFF pseudo-ground-truth of COCO): (pose, shape, flag).
_LAYOUTS = (('body_pose', 'body_shape', 'has_body'), ('smpl_pose', 'smpl_betas', 'has_smpl'))


@DATASETS.register_module()
class CocoMeshDataset(CocoKeypointDataset):
    """:class:`CocoKeypointDataset` plus body-model parameters and optional 3D keypoints per person, top-down.

    Annotations may carry ``body_pose`` (J * 3 axis-angle radians of the body model's joints, global orientation
    first, camera frame), ``body_shape`` (S), ``has_body`` (0/1; default 1 when ``body_pose`` is present) and
    ``keypoints_3d`` (K * 3, mm); images may carry ``camera_param``. SMPL's published layout of the COCO
    pseudo-ground-truth fits (EFT, Joo et al., 3DV 2021: ``smpl_pose`` (72), ``smpl_betas``, ``has_smpl``) is read
    the same way. Annotations without body fields are 2D-only samples (``has_body = 0``). Every body pose of one
    file has the same length J * 3 (the body model's joints; the mesh target checks it against the model).

    Data info fields added (one instance): ``body_pose`` (1, J * 3), ``body_shape`` (1, S), ``has_body`` (1,),
    ``keypoints_3d`` (1, K, 3) in **metres** (zeros when absent), ``has_keypoints_3d`` (1,), all float32, and
    ``camera_param`` when present. A malformed body or 3D field skips its sample with a warning; a malformed
    ``camera_param`` raises ValueError.

    Args:
        **kwargs: As :class:`CocoKeypointDataset`.
    """

    #: The body-pose length of the file being read (its first body's), or None before the first.
    _pose_size: Optional[int] = None

    def load_data_list(self) -> list:
        """:class:`CocoKeypointDataset`'s list; the body-pose length is learnt from the file's first body."""
        self._pose_size = None
        return super().load_data_list()

    def parse_data_info(self, raw_data_info: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Parse one annotation as :class:`CocoKeypointDataset` does and add its mesh fields; None if skipped."""
        data_info = super().parse_data_info(raw_data_info)
        if data_info is None:
            return None
        ann, img = raw_data_info['raw_ann_info'], raw_data_info['raw_img_info']
        num_keypoints = data_info['keypoints'].shape[1]
        pose_key, shape_key, flag_key = next((layout for layout in _LAYOUTS if layout[0] in ann or layout[2] in ann),
                                             _LAYOUTS[0])
        has_body = ann.get(flag_key, 1 if pose_key in ann else 0)
        if has_body not in (0, 1):
            return self._reject(ann, img, flag_key, f'{has_body!r} is not 0 or 1')
        pose, shape = np.zeros(0, np.float32), np.zeros(0, np.float32)
        if has_body:
            pose = self._numbers(ann.get(pose_key), None)
            if pose is None or pose.size == 0 or pose.size % 3:
                return self._reject(ann, img, pose_key, f'{_short(ann.get(pose_key))} is not 3 * J finite numbers '
                                    '(axis-angle of the body model\'s J joints)')
            if self._pose_size not in (None, pose.size):
                return self._reject(ann, img, pose_key, f'{pose.size} numbers, while earlier annotations of this '
                                    f'file have {self._pose_size} (one body model per file)')
            self._pose_size = pose.size
            shape = self._numbers(ann.get(shape_key), None)
            if shape is None or shape.size < 1:
                return self._reject(ann, img, shape_key, f'{_short(ann.get(shape_key))} is not a non-empty '
                                    'list of finite numbers')
        keypoints_3d, has_3d = np.zeros((1, num_keypoints, 3), np.float32), 0.0
        if ann.get('keypoints_3d') is not None:
            values = self._numbers(ann['keypoints_3d'], num_keypoints * 3)
            if values is None:
                return self._reject(ann, img, 'keypoints_3d', f'{_short(ann["keypoints_3d"])} is not '
                                    f'{num_keypoints} * 3 finite numbers (X, Y, Z in mm)')
            keypoints_3d, has_3d = values.reshape(1, num_keypoints, 3) / _MM_PER_M, 1.0
        data_info.update(body_pose=pose.reshape(1, -1), body_shape=shape.reshape(1, -1),
                         has_body=np.array([has_body], np.float32), keypoints_3d=keypoints_3d.astype(np.float32),
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
