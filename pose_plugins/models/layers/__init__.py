"""Building blocks shared by the models (plain ``nn.Module`` s, not registered)."""
from .basic_block import BasicBlock
from .bottleneck import Bottleneck
from .checkpoint_mixin import CheckpointMixin
from .conv_norm_act import ConvNormAct
from .deconv_stack import DeconvStack, make_deconv_layers
from .global_net import GlobalNet
from .hourglass_module import HourglassModule
from .hourglass_residual import HourglassResidual
from .hr_module import HRModule
from .named_norm import NamedNormMixin
from .pose_backbone import PoseBackbone
from .refine_bottleneck import RefineBottleneck
from .refine_net import RefineNet
from .res_layer import make_res_layer
from .residual_block import ResidualBlock
from .soft_argmax import SoftArgmax
from .keypoint_attention import keypoint_attention, keypoint_attention_pool  # noqa: F401
from .validation import check_count, is_count

__all__ = [
    'BasicBlock', 'Bottleneck', 'CheckpointMixin', 'ConvNormAct', 'DeconvStack', 'GlobalNet', 'HRModule',
    'HourglassModule', 'HourglassResidual', 'NamedNormMixin', 'PoseBackbone', 'RefineBottleneck', 'RefineNet',
    'ResidualBlock', 'SoftArgmax', 'check_count', 'is_count', 'make_deconv_layers', 'make_res_layer'
]
