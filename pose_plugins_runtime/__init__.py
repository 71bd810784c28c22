"""Run a model exported by ``tools/export_onnx.py`` with numpy, OpenCV and onnxruntime only (no torch or mmpose):
``keypoints, scores = PoseSession('model.onnx')(cv2.imread('people.jpg'), [[x1, y1, x2, y2]])``.
"""
from .drawing import draw_poses
from .pose_session import PoseSession
from .preprocessing import bbox_xyxy_to_center_scale, crop_boxes, fix_aspect_ratio, get_warp_matrix

__all__ = ['PoseSession', 'draw_poses', 'bbox_xyxy_to_center_scale', 'crop_boxes', 'fix_aspect_ratio',
           'get_warp_matrix']
