"""pose_plugins' start-up hook: ``import torchvision`` finds a small stand-in when, and only when, no torchvision
is installed.

Why: mmpose 1.3.2 imports ``torchvision.transforms.ToPILImage`` when its visualizer is imported
(``mmpose/visualization/simcc_vis.py``), which ``from mmpose.apis import MMPoseInferencer`` and every mmpose
``Runner`` do; no torchvision build exists for the CPU torch our set-up installs. The stand-in lives in
``pose_plugins/_stand_ins/torchvision`` and provides only ``transforms.ToPILImage``; its ``__version__`` is
:data:`STAND_IN_VERSION` (``'0.0+pose_plugins.stand_in'``), which is also what mmengine's environment log prints
as ``TorchVision``.

How: installing pose_plugins puts ``pose_plugins_startup.pth`` in site-packages; Python runs its one line at every
start, which calls :func:`install`. That appends :class:`TorchvisionStandInFinder` to the *end* of
``sys.meta_path`` and nothing else: this module imports only ``os`` and ``sys`` and ``importlib.machinery`` (already
loaded at start-up), never torch, mmpose or pose_plugins. Python asks the finder only after every other finder has
failed to find ``torchvision``, so with a real torchvision installed the finder is never consulted (a no-op). Set
``POSE_PLUGINS_TORCHVISION_STAND_IN=0`` to switch it off and get the plain ``ModuleNotFoundError``.

This module is top-level (not inside ``pose_plugins``) because importing ``pose_plugins`` at start-up would import
torch and mmpose in every Python process.
"""
from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Optional, Sequence

__all__ = ['STAND_IN_DIR', 'STAND_IN_VERSION', 'ENV_SWITCH', 'TorchvisionStandInFinder', 'install', 'is_stand_in']

#: Directory holding the stand-in ``torchvision`` package, beside this file in a checkout and in site-packages.
STAND_IN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pose_plugins', '_stand_ins')
#: ``torchvision.__version__`` of the stand-in: a valid PEP 440 version (mmengine parses it) that names itself.
STAND_IN_VERSION = '0.0+pose_plugins.stand_in'
#: Environment variable; ``0`` switches the stand-in off.
ENV_SWITCH = 'POSE_PLUGINS_TORCHVISION_STAND_IN'


class TorchvisionStandInFinder:
    """Meta-path finder, placed last on ``sys.meta_path``: finds ``torchvision`` in :data:`STAND_IN_DIR`.

    It answers for the top-level name ``torchvision`` only; submodules (``torchvision.transforms``) are then found
    by Python's own path finder in the stand-in package, and anything the stand-in lacks (``torchvision.models``)
    raises ``ModuleNotFoundError`` as without torchvision.
    """

    @classmethod
    def find_spec(cls, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[ModuleType] = None) -> Optional[ModuleSpec]:
        """The stand-in's spec for ``fullname == 'torchvision'``, else ``None``."""
        if fullname != 'torchvision':
            return None
        return PathFinder.find_spec(fullname, [STAND_IN_DIR])


def install() -> bool:
    """Append :class:`TorchvisionStandInFinder` to ``sys.meta_path`` once (idempotent).

    Returns:
        bool: whether the finder is on ``sys.meta_path`` afterwards (False when ``POSE_PLUGINS_TORCHVISION_STAND_IN``
        is ``0``).
    """
    if os.environ.get(ENV_SWITCH, '1').strip() == '0':
        return False
    if TorchvisionStandInFinder not in sys.meta_path:
        sys.meta_path.append(TorchvisionStandInFinder)
    return True


def is_stand_in(module: Optional[ModuleType]) -> bool:
    """Whether ``module`` (e.g. ``sys.modules.get('torchvision')``) is pose_plugins' stand-in."""
    return bool(getattr(module, '__pose_plugins_stand_in__', False))
