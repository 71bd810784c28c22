"""Convert a SMPL model file (an official chumpy .pkl) into a clean .npz, once, without chumpy or pickled code.

    python tools/convert_smpl_model.py SMPL_NEUTRAL.pkl data/smpl/SMPL_NEUTRAL.npz

The input is read by ``pose_plugins.body_models.load_smpl_model_file`` (a restricted unpickler: numpy
arrays, scipy sparse matrices and chumpy arrays only; anything else is refused), checked against SMPL's format and
written with ``numpy.savez_compressed``: ``v_template``, ``shapedirs``, ``posedirs``, ``J_regressor`` (dense),
``weights``, ``kintree_table``, ``f``. The output is loaded with ``allow_pickle=False``; an existing output file is
never overwritten. SMPL's files are licensed (https://smpl.is.tue.mpg.de): convert your own copy, don't share it.
"""
import sys

from pose_plugins.apis.convert_smpl_model import main
from pose_plugins.cli import run_tool

if __name__ == '__main__':
    sys.exit(run_tool(main, description=__doc__))
