"""What the command-line tools run: one module per ``tools/*.py`` (argument parsing and the work it orchestrates).

This subpackage sits on top of the house: it may import anything in pose_plugins (including
:mod:`pose_plugins.synthetic`), and nothing else in the library imports it. Import its modules by name
(``from pose_plugins.apis.demo import ensure_data``); this file imports none of them, so that
``python -m pose_plugins.apis.demo`` runs the module once.
"""
import os.path as osp

__all__ = ['CONFIGS_DIR']

#: ``configs/`` of the checkout the package runs from (the benchmarks time its published configs).
CONFIGS_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
