"""A pickle reader for SMPL model files that runs no pickled code and needs no chumpy."""
import io
import pickle
from typing import Any, Callable, Dict, Tuple

import numpy as np

__all__ = ['SafeModelUnpickler', 'PickledStateStandIn']

_numpy_core = getattr(np, '_core', None) or np.core  # numpy >= 2 renamed numpy.core to numpy._core


class PickledStateStandIn:
    """Inert stand-in for a chumpy object or a scipy sparse matrix that only keeps its pickled ``state``.

    ``kind`` is ``'chumpy'`` or ``'sparse'``; ``global_name`` the ``module.name`` the file named.
    """

    kind = ''
    global_name = ''

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.state: Dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):  # (dict, slots) form
            state = {**(state[0] or {}), **state[1]}
        self.state = dict(state) if isinstance(state, dict) else {'state': state}


def _stand_in(kind: str, global_name: str) -> type:
    return type(f'{kind.capitalize()}StandIn', (PickledStateStandIn, ), dict(kind=kind, global_name=global_name))


def _allowed_globals() -> Dict[Tuple[str, str], Callable]:
    """``(module, name)`` -> what it is read as: array reconstruction, stand-ins and Python 2 plumbing only."""
    import copyreg
    import _codecs
    allowed: Dict[Tuple[str, str], Callable] = {}
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed[(module, '_reconstruct')] = _numpy_core.multiarray._reconstruct
        allowed[(module, 'scalar')] = _numpy_core.multiarray.scalar
    for module in ('numpy.core.numeric', 'numpy._core.numeric'):  # protocol 5 pickles of arrays
        allowed[(module, '_frombuffer')] = _numpy_core.numeric._frombuffer
    allowed[('numpy', 'ndarray')] = np.ndarray
    allowed[('numpy', 'dtype')] = np.dtype
    for module in ('copy_reg', 'copyreg'):  # Python 2 / 3 names
        allowed[(module, '_reconstructor')] = copyreg._reconstructor
    for module in ('__builtin__', 'builtins'):
        allowed[(module, 'object')] = object
        allowed[(module, 'set')] = set  # chumpy's pickled state holds sets (``_dirty_vars``)
        allowed[(module, 'frozenset')] = frozenset
    allowed[('_codecs', 'encode')] = _codecs.encode  # Python 3 protocol <= 2 pickles store bytes through it
    for module in ('scipy.sparse.csc', 'scipy.sparse._csc', 'scipy.sparse.csr', 'scipy.sparse._csr'):
        name = 'csc_matrix' if 'csc' in module else 'csr_matrix'
        allowed[(module, name)] = _stand_in('sparse', f'{module}.{name}')
    return allowed


_ALLOWED = _allowed_globals()


class SafeModelUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` admitting numpy arrays, and scipy sparse and chumpy objects as stand-ins only.

    Any other global raises ``pickle.UnpicklingError`` before it is imported.

    Args:
        file (io.BufferedIOBase): The open pickle file.
        source (str): The file's name, for error messages.
    """

    def __init__(self, file: io.BufferedIOBase, *, source: str) -> None:
        super().__init__(file, encoding='latin1')
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == 'chumpy' or module.startswith('chumpy.'):
            return _stand_in('chumpy', f'{module}.{name}')
        raise pickle.UnpicklingError(
            f'{self.source}: refusing the pickled global {module}.{name}: a SMPL model file holds only numpy arrays, '
            'scipy sparse matrices and chumpy arrays, and this loader runs no other pickled code')
