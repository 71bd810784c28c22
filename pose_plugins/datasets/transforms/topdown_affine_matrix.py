"""mmpose's ``TopdownAffine`` without the pixel warp: the crop's matrix, for a warp on the model's device."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
from mmpose.datasets.transforms import TopdownAffine as MMPoseTopdownAffine
from mmpose.structures.bbox import get_udp_warp_matrix, get_warp_matrix

from pose_plugins.registry import TRANSFORMS

__all__ = ['TopdownAffineMatrix']


@TRANSFORMS.register_module()
class TopdownAffineMatrix(MMPoseTopdownAffine):
    """mmpose's ``TopdownAffine`` (same arguments; same ``bbox_scale``, ``transformed_keypoints``, ``input_size``,
    ``input_center``, ``input_scale``) that leaves the pixels to ``warp_affine_batch`` on the model's device.

    Added keys: ``warp_matrix`` (np.ndarray): (2, 3) float32, source-image pixels -> input-crop pixels, the ``M``
    of ``cv2.warpAffine(img, M, input_size, flags=cv2.INTER_LINEAR)``.

    ``img`` stays the full (H, W, C) source image, made C-contiguous without a copy where it can be: the
    horizontally flipped view ``RandomFlip`` leaves (negative stride on axis 1) becomes its un-flipped base and the
    flip ``x -> W - 1 - x`` moves into ``warp_matrix``. A list of images is not supported (ValueError).
    """

    def transform(self, results: Dict) -> Optional[dict]:
        if isinstance(results['img'], list):
            raise ValueError(f'{type(self).__name__}: a list of images is not supported (one image per sample, '
                             f'warped on the device); use pose_plugins.TopdownAffine')
        if results['bbox_center'].shape[0] != 1:
            raise ValueError(f'{type(self).__name__}: one instance per sample, got bbox_center of shape '
                             f'{results["bbox_center"].shape}')
        w, h = self.input_size
        results['bbox_scale'] = self._fix_aspect_ratio(results['bbox_scale'], aspect_ratio=w / h)
        center = results['bbox_center'][0]
        scale = results['bbox_scale'][0]
        rot = results['bbox_rotation'][0] if 'bbox_rotation' in results else 0.
        make_matrix = get_udp_warp_matrix if self.use_udp else get_warp_matrix
        warp_mat = make_matrix(center, scale, rot, output_size=(w, h))

        image, flip = self._unflipped(results['img'])
        results['img'] = image
        results['warp_matrix'] = (warp_mat @ flip).astype(np.float32)

        if results.get('keypoints', None) is not None:
            if results.get('transformed_keypoints', None) is not None:
                transformed_keypoints = results['transformed_keypoints'].copy()
            else:
                transformed_keypoints = results['keypoints'].copy()
            transformed_keypoints[..., :2] = cv2.transform(results['keypoints'][..., :2], warp_mat)
            results['transformed_keypoints'] = transformed_keypoints
        else:
            results['transformed_keypoints'] = np.zeros([])
            results['keypoints_visible'] = np.ones((1, 1, 1))

        results['input_size'] = (w, h)
        results['input_center'] = center
        results['input_scale'] = scale
        return results

    @staticmethod
    def _unflipped(img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """A C-contiguous image and the (3, 3) ``F`` with ``warp(img, M) == warp(image, M @ F)``: the identity, or
        the horizontal flip ``x -> W - 1 - x`` when ``img`` is a negative-stride view of ``image``."""
        flip = np.eye(3)
        if img.ndim >= 2 and img.strides[1] < 0:
            img = img[:, ::-1]
            flip = np.array([[-1.0, 0.0, img.shape[1] - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        return np.ascontiguousarray(img), flip
