"""Building blocks written once and shared by every model (not registered: plain ``nn.Module``s)."""
from .basic_block import BasicBlock
from .bottleneck import Bottleneck
from .deconv_stack import DeconvStack
from .hourglass_module import HourglassModule
from .hourglass_residual import HourglassResidual
from .hr_module import HRModule
from .res_layer import make_res_layer
from .residual_block import ResidualBlock

__all__ = [
    'BasicBlock', 'Bottleneck', 'DeconvStack', 'HRModule', 'HourglassModule', 'HourglassResidual', 'ResidualBlock',
    'make_res_layer'
]
