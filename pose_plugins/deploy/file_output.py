"""What the deploy writers share about the files they write."""
import os

__all__ = ['default_permissions']


def default_permissions(path: str) -> None:
    """Give a ``tempfile.mkstemp`` file (0600) the permissions of a plainly created one (0666 & ~umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
