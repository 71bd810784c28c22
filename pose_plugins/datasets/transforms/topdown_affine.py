"""mmpose's ``TopdownAffine`` on a contiguous image (what a preceding horizontal flip hands over is a view)."""
from typing import Dict, Optional

import numpy as np
from mmpose.datasets.transforms import TopdownAffine as MMPoseTopdownAffine

from pose_plugins.registry import TRANSFORMS

__all__ = ['TopdownAffine']


@TRANSFORMS.register_module()
class TopdownAffine(MMPoseTopdownAffine):
    """mmpose's ``TopdownAffine`` (same arguments, same pixels and keypoints) that first makes the image
    C-contiguous: ``cv2.warpAffine`` is much slower on the negative-stride view ``RandomFlip`` leaves."""

    def transform(self, results: Dict) -> Optional[dict]:
        img = results['img']
        if isinstance(img, list):
            results['img'] = [np.ascontiguousarray(one) for one in img]
        else:
            results['img'] = np.ascontiguousarray(img)
        return super().transform(results)
