"""Using trained models outside training: ONNX export with the decoding inside the graph, checkpoint conversion
from the original implementations, and checkpoint publishing. The torch-free runtime is the top-level
``pose_plugins_runtime`` package (importing anything under ``pose_plugins`` imports torch and mmpose)."""
from .checkpoint_conversion import LAYOUTS, ConversionReport, convert_state_dict
from .checkpoint_publishing import plain_meta, publish_checkpoint
from .decoding_pose_model import DecodingPoseModel
from .onnx_export import DEFAULT_OPSET, METADATA_KEYS, export_onnx, preprocessing_metadata, read_metadata

__all__ = ['LAYOUTS', 'ConversionReport', 'convert_state_dict', 'plain_meta', 'publish_checkpoint',
           'DecodingPoseModel', 'DEFAULT_OPSET', 'METADATA_KEYS', 'export_onnx', 'preprocessing_metadata',
           'read_metadata']
