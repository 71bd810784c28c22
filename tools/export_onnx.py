"""Export a trained top-down model to ONNX with the decoding (and optionally flip test) inside the graph.

    python tools/export_onnx.py CONFIG CHECKPOINT --out model.onnx [--flip-test] [--with-boxes] [--opset 17]

The graph takes the crops ``inputs`` (B, 3, h, w) (normalised as the config's preprocessor does; dynamic batch)
and, with ``--with-boxes``, each crop's ``center`` and ``scale`` (B, 2); it returns ``keypoints`` (B, K, D) in
crop pixels (image pixels with boxes) and ``scores`` (B, K). The preprocessing is written into the file's
metadata for the torch-free runtime (``python -m pose_plugins_runtime model.onnx image.jpg``). An existing
output is never replaced unless ``--overwrite``.
"""
import sys

from pose_plugins.apis.export_onnx import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
