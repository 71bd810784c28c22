"""Convert a SMPL model file (an official chumpy .pkl) into a clean .npz, once, without chumpy or pickled code.

    python tools/convert_smpl_model.py SMPL_NEUTRAL.pkl data/smpl/SMPL_NEUTRAL.npz

The input is read by ``pose_plugins.models.body_models.load_smpl_model_file`` (a restricted unpickler: numpy
arrays, scipy sparse matrices and chumpy arrays only; anything else is refused), checked against SMPL's format and
written with ``numpy.savez_compressed``: ``v_template``, ``shapedirs``, ``posedirs``, ``J_regressor`` (dense),
``weights``, ``kintree_table``, ``f``. The output is loaded with ``allow_pickle=False``; an existing output file is
never overwritten. SMPL's files are licensed (https://smpl.is.tue.mpg.de): convert your own copy, don't share it.
"""
import argparse
from pathlib import Path
from typing import List, Optional

from pose_plugins.models.body_models import load_smpl_model_file, save_smpl_model_file


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('input', help='the SMPL model file (.pkl as distributed, or .npz)')
    parser.add_argument('output', help='the new .npz (must not exist)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Path:
    args = parse_args(argv)
    output = Path(args.output)
    if output.suffix.lower() != '.npz':
        raise SystemExit(f'convert_smpl_model.py: the output must be a .npz file, got {output}')
    if output.exists():
        raise SystemExit(f'convert_smpl_model.py: {output} exists; not overwriting it')
    arrays = load_smpl_model_file(args.input)
    save_smpl_model_file(output, arrays)
    print(f'wrote {output}: ' + ', '.join(f'{key} {tuple(value.shape)}' for key, value in arrays.items()))
    return output


if __name__ == '__main__':
    main()
