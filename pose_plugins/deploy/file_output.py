"""What the deploy writers share about the files they write."""
import os

__all__ = ['default_permissions']


def default_permissions(path: str) -> None:
    """Give a ``tempfile.mkstemp`` file (created 0600) the permissions a plainly created file gets (0666 & ~umask),
    before it is linked to its final name."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
