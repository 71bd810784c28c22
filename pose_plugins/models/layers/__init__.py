"""Building blocks written once and shared by every model (not registered: plain ``nn.Module``s)."""
from .basic_block import BasicBlock
from .bottleneck import Bottleneck
from .deconv_stack import DeconvStack, make_deconv_layers
from .global_net import GlobalNet
from .hourglass_module import HourglassModule
from .hourglass_residual import HourglassResidual
from .hr_module import HRModule
from .pose_backbone import PoseBackbone, is_count
from .refine_bottleneck import RefineBottleneck
from .refine_net import RefineNet
from .res_layer import make_res_layer
from .residual_block import ResidualBlock
from .soft_argmax import SoftArgmax
from .stem import build_stem_conv

__all__ = [
    'BasicBlock', 'Bottleneck', 'DeconvStack', 'GlobalNet', 'HRModule', 'HourglassModule', 'HourglassResidual',
    'PoseBackbone', 'RefineBottleneck', 'RefineNet', 'ResidualBlock', 'SoftArgmax', 'build_stem_conv', 'is_count',
    'make_deconv_layers', 'make_res_layer'
]
