"""pose_plugins: HRNet, Hourglass, SimpleBaseline, CPN and integral regression for mmpose 1.x.

Dependencies with special build flags (torch CPU wheel, mmcv with ops, xtcocotools against numpy 2, mmpose
without its chumpy requirement) are installed by ``scripts/setup.sh``; ``install_requires`` lists only what
pip can resolve plainly.
"""
from pathlib import Path

from setuptools import find_packages, setup

version: dict = {}
exec((Path(__file__).parent / 'pose_plugins' / 'version.py').read_text(), version)

setup(
    name='pose_plugins',
    version=version['__version__'],
    description='Classic top-down human pose estimation models plugged into OpenMMLab (mmpose 1.x)',
    packages=find_packages(include=['pose_plugins', 'pose_plugins.*']),
    python_requires='>=3.10',
    install_requires=['mmengine==0.10.7', 'numpy>=2'],
)
