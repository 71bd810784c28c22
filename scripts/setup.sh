#!/usr/bin/env bash
# Installs pose_plugins and its pinned dependency stack into the current Python (idempotent).
# The first run compiles mmcv 2.1.0 with its ops (~11 min on 2 cores); later runs reuse what is installed.
# `bash scripts/setup.sh --no-deploy` skips the deploy extra (onnx, onnxruntime: requirements-deploy.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
pip_install() { "$PY" -m pip install --quiet --disable-pip-version-check "$@"; }
have() {  # have DIST VERSION: exits 0 when that exact version is installed
  "$PY" - "$1" "$2" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
except PackageNotFoundError:
    sys.exit(1)
PYEOF
}
# 1. build tools and torch (CPU wheel from local disk), numpy 2
pip_install 'setuptools>=77.0.3,<82' wheel cython ninja 'numpy>=2,<2.4' 'torch==2.13.0'
# 2. pure-python stack (runtime) and the test tools
if [ "${1:-}" = --no-deploy ]; then deploy=(); else deploy=(-r requirements-deploy.txt); fi
pip_install -r requirements.txt -r requirements-tests.txt "${deploy[@]}"
# 3. mmcv 2.1.0 built with its compiled ops (needs torch at build time, so no build isolation)
if ! have mmcv 2.1.0 || ! "$PY" -c 'import mmcv.ops' 2>/dev/null; then
  echo "setup: building mmcv 2.1.0 with ops (first time only, ~11 min on 2 cores)"
  MAX_JOBS=${MAX_JOBS:-2} MMCV_WITH_OPS=1 pip_install --no-build-isolation 'mmcv==2.1.0'
fi
# 4. xtcocotools built against numpy 2
if ! "$PY" -c 'import xtcocotools.coco' 2>/dev/null; then
  pip_install --no-build-isolation --no-binary xtcocotools 'xtcocotools==1.14.3'
fi
# 5. mmdet and mmpose without their declared deps (mmpose's chumpy cannot build on Python 3.11)
have mmdet 3.2.0 || pip_install --no-deps 'mmdet==3.2.0'
have mmpose 1.3.2 || pip_install --no-deps 'mmpose==1.3.2'
# 5b. the Anny body model (code Apache-2.0, CC0 assets inside its ~48 MB wheel) without its declared warp-lang (optional
#     GPU skinning; the torch path falls back to plain skinning); roma, trimesh and safetensors come from
#     requirements.txt
have anny 0.6.2 || pip_install --no-deps 'anny==0.6.2'
# 6. this package, editable from THIS checkout (a clone elsewhere re-points it), with its start-up hook
#    (pose_plugins_startup.pth in site-packages, which loads _pose_plugins_startup from this checkout at every start)
here=$(pwd)
installed_here() {  # a fresh interpreter imports pose_plugins (and the torch-free pose_plugins_runtime) from here
  # and has run the start-up hook from here, and the pose-plugins command is installed
  (cd /tmp && env -u POSE_PLUGINS_TORCHVISION_STAND_IN "$PY" -c 'import importlib.metadata, os, sys
import _pose_plugins_startup as hook, pose_plugins, pose_plugins_runtime
top = lambda f: os.path.dirname(os.path.dirname(os.path.abspath(f)))
sys.exit(top(pose_plugins.__file__) != sys.argv[1] or top(pose_plugins_runtime.__file__) != sys.argv[1]
         or os.path.dirname(os.path.abspath(hook.__file__)) != sys.argv[1]
         or hook.TorchvisionStandInFinder not in sys.meta_path
         or not importlib.metadata.entry_points(group="console_scripts", name="pose-plugins"))' "$here") 2>/dev/null
}
if ! installed_here; then
  pip_install --no-deps --no-build-isolation -e .
  if ! installed_here; then
    echo "setup: pose_plugins, pose_plugins_runtime or the start-up hook is not installed from $here after pip install -e ." >&2
    exit 1
  fi
fi
# 7. AnnyBody's arrays, built by anny once per machine (~1-2 min the first time, then read in ~1 s) into
#    ~/.cache/pose_plugins (or $POSE_PLUGINS_CACHE_DIR; a 61 MB .npz)
(cd /tmp && "$PY" -W ignore -c 'from pose_plugins.body_models.anny_rig import anny_model_arrays; anny_model_arrays()')
echo "setup: ok"
