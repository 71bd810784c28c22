"""``tools/test.py``: a checkpoint evaluated on a config's test set with :func:`pose_plugins.cli.parse_test_args`'s
flags and :func:`~pose_plugins.cli.prepare_test_config`."""
import json
from typing import Any, Dict, Optional, Sequence

from pose_plugins.cli import build_runner, parse_test_args, prepare_test_config

__all__ = ['main']


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """``tools/test.py`` (``argv`` None: ``sys.argv[1:]``): returns the metrics, also written to ``--out`` (a new
    file) by rank 0. Its parser has its own description, so there is no ``description`` argument."""
    args = parse_test_args(argv)
    cfg = prepare_test_config(args)
    runner = build_runner(cfg, args.launcher)
    metrics = runner.test()
    if args.out is not None and runner.rank == 0:
        with open(args.out, 'x') as f:  # 'x': never overwrite a file the user owns
            json.dump({key: float(value) for key, value in metrics.items()}, f, indent=2)
    return metrics
