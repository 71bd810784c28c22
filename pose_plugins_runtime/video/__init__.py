"""Pose on video with numpy, OpenCV and scipy: frame sources, person boxes, tracking, One-Euro smoothing, writers."""
