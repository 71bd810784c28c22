"""Pose backbones: ResNet, HRNet, Stacked Hourglass."""
from .hrnet import HRNet
from .resnet import ResNet
from .stacked_hourglass import StackedHourglass

__all__ = ['HRNet', 'ResNet', 'StackedHourglass']
