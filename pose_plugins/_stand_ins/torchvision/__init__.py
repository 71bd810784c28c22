"""pose_plugins' stand-in for torchvision: torchvision is not installed in this Python.

Loaded as ``torchvision`` by the start-up hook ``_pose_plugins_startup`` only because no real torchvision could be
found. It provides ``transforms.ToPILImage``, the one name mmpose 1.3.2's visualizer imports, and nothing else;
``__version__`` says what it is (``'0.0+pose_plugins.stand_in'``, shown as ``TorchVision`` in mmengine's
environment log). Install torchvision to get the real one; the stand-in then never loads.
"""
from typing import NoReturn

from _pose_plugins_startup import STAND_IN_VERSION

from . import transforms

__version__ = STAND_IN_VERSION
__pose_plugins_stand_in__ = True
__all__ = ['transforms']


def __getattr__(name: str) -> NoReturn:
    """Any other attribute: an ``AttributeError`` that says this is the stand-in and what it lacks."""
    raise AttributeError(f"module 'torchvision' has no attribute {name!r}: this is pose_plugins' stand-in "
                         f"(torchvision is not installed), which provides only transforms.ToPILImage; install "
                         f"torchvision for torchvision.{name}")
