"""COCO-style person keypoints with camera coordinates: top-down data for root-relative 3D pose estimation."""
import math
from numbers import Integral, Real
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
from pose_plugins.registry import DATASETS
from .coco_keypoint_dataset import CocoKeypointDataset

__all__ = ['CocoKeypoint3DDataset']


@DATASETS.register_module()
class CocoKeypoint3DDataset(CocoKeypointDataset):
    """:class:`CocoKeypointDataset` plus camera-space keypoints and the camera, top-down only.

    Annotations carry ``keypoints_3d`` (K * 3 camera X, Y, Z in mm; X right, Y down, Z forward); images carry
    ``camera_param = {"f": [fx, fy], "c": [cx, cy]}`` in pixels. ``keypoints`` gains a third column, the
    root-relative depth ``z_rel = Z_j - Z_root`` (3DMPPE PoseNet, Moon et al., ICCV 2019), which mmpose's
    ``TopdownAffine`` and ``RandomFlip`` carry as a label; mmpose 1.3.2's ``HalfBodyTransform`` cannot be used.
    ``bbox_file`` is refused: detector boxes have no 3D ground truth. K: keypoints (17 for COCO).

    Data info fields (one instance):
        - keypoints (np.ndarray): float32 (1, K, 3): u, v in pixels and ``z_rel`` in mm
        - keypoints_3d (np.ndarray): float32 (1, K, 3): camera X, Y, Z in mm, not augmented
        - camera_param (dict): ``f`` and ``c``, float32 (2,) each, in pixels

    Args:
        root_indices (Sequence[int]): Distinct keypoint indices whose mean is the root. Defaults to the hips.
        **kwargs: As :class:`~mmpose.datasets.CocoDataset`, except ``bbox_file`` and ``data_mode='bottomup'``.

    Raises:
        ValueError: Bad ``root_indices``, ``bbox_file`` set, or a malformed 3D or camera field.
    """

    def __init__(self, *, root_indices: Sequence[int] = (11, 12), **kwargs: Any) -> None:
        if isinstance(root_indices, (str, bytes)) or not isinstance(root_indices, Sequence) or not root_indices \
                or not all(isinstance(i, Integral) and not isinstance(i, bool) and i >= 0 for i in root_indices) \
                or len(set(root_indices)) != len(root_indices):
            raise ValueError(f'CocoKeypoint3DDataset: root_indices must be a non-empty sequence of distinct '
                             f'non-negative ints, got {root_indices!r}')
        if kwargs.get('bbox_file'):
            raise ValueError(f'CocoKeypoint3DDataset needs ground-truth boxes: detector boxes have no 3D ground '
                             f'truth, so bbox_file must not be set (got bbox_file={kwargs["bbox_file"]!r})')
        if kwargs.get('data_mode', 'topdown') != 'topdown':
            raise ValueError(f'CocoKeypoint3DDataset supports data_mode=\'topdown\' only, '
                             f'got {kwargs["data_mode"]!r}')
        self.root_indices: Tuple[int, ...] = tuple(int(i) for i in root_indices)
        super().__init__(**kwargs)

    def parse_data_info(self, raw_data_info: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Parse one annotation as ``CocoDataset`` does and add its 3D fields; None for a skipped instance."""
        data_info = super().parse_data_info(raw_data_info)
        if data_info is None:
            return None
        ann, img = raw_data_info['raw_ann_info'], raw_data_info['raw_img_info']
        num_keypoints = data_info['keypoints'].shape[1]
        where = f'{self.ann_file}, annotation id {ann["id"]} (image id {ann["image_id"]})'
        if max(self.root_indices) >= num_keypoints:
            raise ValueError(f'CocoKeypoint3DDataset: root_indices {self.root_indices} out of range for the '
                             f'{num_keypoints} keypoints of {where}')
        keypoints_3d = self._keypoints_3d(ann.get('keypoints_3d'), num_keypoints, where)
        root_depth = keypoints_3d[:, list(self.root_indices), 2].mean(axis=1)
        depth = (keypoints_3d[..., 2] - root_depth[:, None]).astype(np.float32)
        data_info['keypoints'] = np.concatenate([data_info['keypoints'], depth[..., None]], axis=-1)
        data_info['keypoints_3d'] = keypoints_3d.astype(np.float32)
        data_info['camera_param'] = self._camera_param(
            img.get('camera_param'), f'{self.ann_file}, image id {ann["image_id"]} (file {img["file_name"]!r})')
        return data_info

    @staticmethod
    def _keypoints_3d(value: Any, num_keypoints: int, where: str) -> np.ndarray:
        """Flat ``keypoints_3d`` (K * 3,) -> float64 (1, K, 3)."""
        if value is None:
            raise ValueError(f'CocoKeypoint3DDataset: {where} has no "keypoints_3d" (a flat list of '
                             f'{num_keypoints} * 3 camera coordinates X, Y, Z in mm)')
        array = np.asarray(value, dtype=np.float64) if _is_number_list(value) else None
        if array is None or array.shape != (num_keypoints * 3, ):
            shape = 'not a flat list of numbers' if array is None else f'{array.size} values'
            raise ValueError(f'CocoKeypoint3DDataset: {where} has "keypoints_3d" with {shape}; expected '
                             f'{num_keypoints} * 3 = {num_keypoints * 3} numbers (X, Y, Z in mm per keypoint)')
        if not np.all(np.isfinite(array)):
            raise ValueError(f'CocoKeypoint3DDataset: {where} has non-finite "keypoints_3d" values')
        return array.reshape(1, num_keypoints, 3)

    @staticmethod
    def _camera_param(value: Any, where: str) -> Dict[str, np.ndarray]:
        """``camera_param`` -> dict(f=float32 (2,), c=float32 (2,))."""
        if not isinstance(value, dict):
            raise ValueError(f'CocoKeypoint3DDataset: {where} has no "camera_param" dict '
                             f'{{"f": [fx, fy], "c": [cx, cy]}} (pixels), got {value!r}')
        camera = {}
        for name in ('f', 'c'):
            entry = value.get(name)
            if not _is_number_list(entry) or len(entry) != 2 or not all(math.isfinite(v) for v in entry) \
                    or (name == 'f' and min(entry) <= 0):
                rule = 'two positive focal lengths [fx, fy]' if name == 'f' else 'two numbers [cx, cy]'
                raise ValueError(f'CocoKeypoint3DDataset: {where} has camera_param[{name!r}] = {entry!r}; '
                                 f'expected {rule} in pixels')
            camera[name] = np.asarray(entry, dtype=np.float32)
        return camera


def _is_number_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, Real) and not isinstance(v, bool) for v in value)
