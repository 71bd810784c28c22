"""Predict keypoints with one of our configs + a checkpoint: images through mmpose's MMPoseInferencer, videos,
cameras and image sequences through the tracked video loop (docs/video.md).

    python tools/infer.py CONFIG CHECKPOINT IMAGE_OR_FOLDER --out-dir outputs/infer
    python tools/infer.py CONFIG CHECKPOINT img.jpg --bboxes '[[10, 20, 110, 220]]'       # given person boxes
    python tools/infer.py CONFIG CHECKPOINT folder/ --bbox-file boxes.json  # {"img.jpg": [[x1, y1, x2, y2], ...]}
    python tools/infer.py CONFIG CHECKPOINT video.mp4 --det-file boxes.jsonl --smooth     # OUT_DIR/video.{mp4,jsonl}
    python tools/infer.py CONFIG CHECKPOINT 0 --det-config DET.py --det-checkpoint DET.pth --redetect-every 5

Without boxes the whole image is one person box. Drawn predictions go to OUT_DIR/visualizations/, JSON to
OUT_DIR/predictions/ (existing results are never overwritten).

A mesh-recovery config (head ``pose_plugins.MeshRegressionHead``) draws the recovered meshes over each image
instead (OUT_DIR/visualizations/IMAGE, predictions in OUT_DIR/visualizations/IMAGE_STEM_predictions.json) and, with
``--mesh-obj DIR``, writes each person's mesh as DIR/IMAGE_STEM_<person>.obj.
"""
import sys

from pose_plugins.apis.infer import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
