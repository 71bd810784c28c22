"""``tools/convert_checkpoint.py``: a checkpoint of an original implementation (or of mmpose 0.x) converted to our
parameter names by :func:`pose_plugins.deploy.checkpoint_conversion.convert_state_dict`, optionally checked
against a config's model."""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import torch

from pose_plugins.cli import ToolArgumentParser, error_message
from pose_plugins.deploy.checkpoint_conversion import LAYOUTS, convert_state_dict

__all__ = ['STATE_DICT_KEYS', 'check_against_config', 'load_source', 'main']

#: Where the source state dict may sit inside a saved checkpoint (3DMPPE: 'network'; others: 'state_dict').
STATE_DICT_KEYS = ('state_dict', 'network', 'model')


def load_source(path: str, *, unsafe: bool) -> Dict[str, torch.Tensor]:
    """The tensors of a source checkpoint: the file's dict, or its 'state_dict' / 'network' / 'model' entry.

    Raises:
        ValueError: the file cannot be loaded safely (``unsafe`` False), or holds no dict of tensors.
    """
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=not unsafe)
    except Exception as err:  # noqa: BLE001  (torch raises several kinds for files it cannot read safely)
        raise ValueError(f'{path}: cannot be loaded with torch.load(weights_only=True) ({type(err).__name__}: '
                         f'{str(err)[:300]}); if you trust the file, pass --unsafe-load') from err
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path}: expected a dict of tensors (a state dict), got {type(checkpoint).__name__}')
    for key in STATE_DICT_KEYS:
        if isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    tensors = {k: v for k, v in checkpoint.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise ValueError(f'{path}: no tensors found (looked at the top level and at {STATE_DICT_KEYS})')
    return tensors


def check_against_config(config: str, converted: Dict[str, torch.Tensor], target: str) -> List[str]:
    """Problems of loading ``converted`` into the config's model (``target`` 'backbone': its backbone): missing /
    unexpected keys after the model's own load hooks, and shape mismatches, as lines of text."""
    from mmpose.apis import init_model
    model = init_model(config, None, device='cpu')
    module = model.backbone if target == 'backbone' else model
    expected = module.state_dict()
    problems = [f'shape mismatch: {k}: checkpoint {tuple(v.shape)}, model {tuple(expected[k].shape)}'
                for k, v in converted.items() if k in expected and expected[k].shape != v.shape]
    if problems:
        return problems
    result = module.load_state_dict(converted, strict=False)
    return ([f'missing in the checkpoint: {k}' for k in result.missing_keys]
            + [f'not expected by the model: {k}' for k in result.unexpected_keys])


def main(argv: Optional[Sequence[str]] = None, *, description: Optional[str] = None) -> int:
    """``tools/convert_checkpoint.py`` (``argv`` None: ``sys.argv[1:]``): returns the exit status, 1 when a source
    key matched no rule, a config check found problems, or the source cannot be read; bad flags exit with 2."""
    parser = ToolArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('source')
    parser.add_argument('out')
    parser.add_argument('--layout', required=True, choices=sorted(LAYOUTS))
    parser.add_argument('--config', help='check the result against this config\'s model')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='torch.load(weights_only=False): only for files you trust')
    args = parser.parse_args(argv)
    if not osp.isfile(args.source):
        parser.error(f'source checkpoint {args.source} does not exist')
    if osp.exists(args.out):
        parser.error(f'{args.out} exists; choose another output file')
    try:
        source = load_source(args.source, unsafe=args.unsafe_load)
    except ValueError as err:
        print(f'{parser.prog}: error: {error_message(err)}', file=sys.stderr)
        return 1
    converted, report = convert_state_dict(source, args.layout)
    print(f'{len(report.renamed)} tensors renamed, {len(report.folded)} conv biases folded into BatchNorm means')
    for key in report.unused:
        print(f'unused by the source model, not converted: {key}')
    for key in report.unmatched:
        print(f'UNMATCHED (no rule of layout {args.layout}), not converted: {key}')
    problems = check_against_config(args.config, converted, LAYOUTS[args.layout]['target']) if args.config else []
    for line in problems:
        print(f'CHECK {args.config}: {line}')
    meta = dict(converted_from=args.layout, source_file=osp.basename(args.source), unused_source_keys=report.unused,
                unmatched_source_keys=report.unmatched)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'xb') as f:  # 'x': never replaces a file that appeared meanwhile
        torch.save(dict(state_dict=converted, meta=meta), f)
    print(f'wrote {args.out}')
    return 1 if (report.unmatched or problems) else 0
