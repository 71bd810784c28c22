"""``python -m pose_plugins SUBCOMMAND ...``: the ``pose-plugins`` command (:mod:`pose_plugins.apis.command`)."""
import sys

from pose_plugins.apis.command import main

if __name__ == '__main__':
    sys.exit(main(prog='python -m pose_plugins'))
