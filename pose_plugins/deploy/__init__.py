"""ONNX export with decoding in the graph, checkpoint conversion and publishing; the torch-free runtime is
``pose_plugins_runtime``."""
from .checkpoint_conversion import LAYOUTS, ConversionReport, convert_state_dict
from .checkpoint_publishing import plain_meta, publish_checkpoint
from .decoding_pose_model import DecodingPoseModel
from .onnx_export import DEFAULT_OPSET, METADATA_KEYS, export_onnx, preprocessing_metadata, read_metadata

__all__ = ['LAYOUTS', 'ConversionReport', 'convert_state_dict', 'plain_meta', 'publish_checkpoint',
           'DecodingPoseModel', 'DEFAULT_OPSET', 'METADATA_KEYS', 'export_onnx', 'preprocessing_metadata',
           'read_metadata']
