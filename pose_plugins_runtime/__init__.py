"""Run a pose model exported by ``tools/export_onnx.py`` with numpy, OpenCV and onnxruntime only.

No torch, mmcv, mmengine or mmpose is imported (``import pose_plugins_runtime`` works where they are not
installed): this package is separate from ``pose_plugins``, whose ``__init__`` imports torch and mmpose.

    import cv2
    from pose_plugins_runtime import PoseSession, draw_poses
    session = PoseSession('hrnet_w32.onnx')
    image = cv2.imread('people.jpg')                              # BGR, as mmpose's LoadImage
    keypoints, scores = session(image, [[10, 20, 110, 220]])      # (M, K, 2) image pixels, (M, K)
    cv2.imwrite('drawn.jpg', draw_poses(image, keypoints, scores, session.skeleton_links))
"""
from .drawing import draw_poses
from .pose_session import PoseSession
from .preprocessing import bbox_xyxy_to_center_scale, crop_boxes, fix_aspect_ratio, get_warp_matrix

__all__ = ['PoseSession', 'draw_poses', 'bbox_xyxy_to_center_scale', 'crop_boxes', 'fix_aspect_ratio',
           'get_warp_matrix']
