"""pose_plugins: HRNet, Hourglass, SimpleBaseline, CPN and integral regression for mmpose 1.x.

``install_requires`` lists what importing pose_plugins and its modules needs and pip can resolve plainly. mmcv
(compiled with its ops), xtcocotools (built against numpy 2) and mmpose / mmdet (without mmpose's ``chumpy``
requirement, which cannot build on Python 3.11) and anny (without its optional ``warp-lang``) need special flags and
are installed by ``scripts/setup.sh``, with
the dependencies that ``--no-deps`` skips for them in ``requirements.txt``. Test tools: ``requirements-tests.txt``
(installed by ``scripts/setup.sh``), the same as the ``tests`` extra.

Besides the packages, the install puts two things at the top of site-packages: the start-up module
``_pose_plugins_startup.py`` and ``pose_plugins_startup.pth``, which runs it at every interpreter start so that
``import torchvision`` finds pose_plugins' stand-in when torchvision is missing (see that module's docstring).
"""
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
STARTUP_PTH = 'pose_plugins_startup.pth'
# One line, run by site.py at start-up; a no-op (not an error) if the module has gone.
STARTUP_PTH_LINE = ("import importlib.util as _pp_util; _pp_util.find_spec('_pose_plugins_startup') is not None "
                    "and __import__('_pose_plugins_startup').install()\n")


class BuildPyWithStartupHook(build_py):
    """``build_py`` that also writes :data:`STARTUP_PTH` at the root of what gets installed (site-packages).

    A regular build writes it to ``build_lib``, the wheel's root. An editable build (``pip install -e .``) ignores
    ``build_lib`` and skips ``build_py``'s own copying; setuptools' ``editable_wheel`` points the ``install``
    command's ``install_lib`` at the root of the editable wheel it assembles (where its own
    ``__editable__.*.pth`` goes), so the file is written there.
    """

    def run(self) -> None:
        super().run()
        root = self.get_finalized_command('install').install_lib if self.editable_mode else self.build_lib
        self.mkpath(root)
        target = Path(root, STARTUP_PTH)
        target.write_text(STARTUP_PTH_LINE)
        self.announce(f'wrote start-up hook {target}', level=2)

    def get_outputs(self, include_bytecode: bool = True) -> list:
        outputs = super().get_outputs(include_bytecode)
        return outputs if self.editable_mode else [*outputs, str(Path(self.build_lib, STARTUP_PTH))]


version: dict = {}
exec((HERE / 'pose_plugins' / 'version.py').read_text(), version)

setup(
    name='pose_plugins',
    version=version['__version__'],
    description='Classic top-down human pose estimation models plugged into OpenMMLab (mmpose 1.x)',
    packages=find_packages(include=['pose_plugins', 'pose_plugins.*', 'pose_plugins_runtime',
                                    'pose_plugins_runtime.*']),
    py_modules=['_pose_plugins_startup'],
    cmdclass={'build_py': BuildPyWithStartupHook},
    entry_points={'console_scripts': ['pose-plugins = pose_plugins.apis.command:main']},  # tools/*.py as one command
    python_requires='>=3.11',  # typing.Self
    install_requires=['numpy>=2', 'torch>=2.1', 'mmengine==0.10.7', 'opencv-python', 'pillow', 'smplx==0.1.28',
                      'scipy', 'tqdm',  # pose on video: the tracker's assignment, the progress bar
                      'motmetrics==1.4.0',  # motmetrics: pose_plugins.evaluation.video_metrics
                      'roma==1.8.0', 'trimesh==5.2.0', 'safetensors', 'pyyaml'],  # what anny's torch path needs
    extras_require={
        'tests': ['pytest>=7', 'pytest-xdist>=3.5', 'filelock'],  # = requirements-tests.txt (setup.sh installs it)
        'deploy': ['onnx==1.23.2', 'onnxruntime==1.31.1'],  # = requirements-deploy.txt (setup.sh installs it)
    },
)
