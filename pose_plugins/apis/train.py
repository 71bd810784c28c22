"""``tools/train.py``: a config trained by mmengine's Runner with :func:`pose_plugins.cli.parse_train_args`'s flags
and :func:`~pose_plugins.cli.prepare_train_config` (crash-safe checkpoints, one run per work dir)."""
from typing import Optional, Sequence

from pose_plugins.cli import build_runner, parse_train_args, prepare_train_config

__all__ = ['main']


def main(argv: Optional[Sequence[str]] = None) -> None:
    """``tools/train.py`` (``argv`` None: ``sys.argv[1:]``): train; the work dir stays locked until the process ends.
    Its parser has its own description, so there is no ``description`` argument."""
    args = parse_train_args(argv)
    cfg = prepare_train_config(args, lock=True)
    build_runner(cfg, args.launcher).train()
