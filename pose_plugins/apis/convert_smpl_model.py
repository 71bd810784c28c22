"""``tools/convert_smpl_model.py``: a SMPL model file (an official chumpy .pkl) converted once into a clean .npz by
:func:`~pose_plugins.body_models.load_smpl_model_file` and ``save_smpl_model_file``."""
import argparse
from pathlib import Path
from typing import Optional, Sequence

from pose_plugins.body_models import load_smpl_model_file, save_smpl_model_file
from pose_plugins.cli import ToolArgumentParser, UsageError

__all__ = ['main', 'parse_args']


def parse_args(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> argparse.Namespace:
    """``tools/convert_smpl_model.py``'s arguments (``argv`` None: ``sys.argv[1:]``)."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('input', help='the SMPL model file (.pkl as distributed, or .npz)')
    parser.add_argument('output', help='the new .npz (must not exist)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> Path:
    """Convert and return the output path. Refuses (UsageError) an output that is not a ``.npz`` or exists; the
    reader's errors (a refused pickled global, a file not in SMPL's format) propagate."""
    args = parse_args(argv, description=description)
    output = Path(args.output)
    if output.suffix.lower() != '.npz':
        raise UsageError(f'the output must be a .npz file, got {output}')
    if output.exists():
        raise UsageError(f'{output} exists; not overwriting it')
    arrays = load_smpl_model_file(args.input)
    save_smpl_model_file(output, arrays)
    print(f'wrote {output}: ' + ', '.join(f'{key} {tuple(value.shape)}' for key, value in arrays.items()))
    return output
