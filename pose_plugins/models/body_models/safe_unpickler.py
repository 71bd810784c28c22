"""A pickle reader for SMPL model files that runs no pickled code and needs no chumpy.

SMPL's official ``.pkl`` files are Python 2 pickles of a dict holding numpy arrays, ``chumpy.ch.Ch`` objects (the
autodiff arrays of SMPL's original code) and a ``scipy.sparse.csc_matrix`` (``J_regressor``). ``pickle.load`` would
import chumpy (which does not install on Python 3.11) and, like any unpickling, call whatever callable the file
names. :class:`SafeModelUnpickler` admits only the globals that rebuild arrays and reads chumpy and scipy sparse
objects into inert stand-ins that keep their pickled state; anything else is refused before it is imported.
"""
import io
import pickle
from typing import Any, Callable, Dict, Tuple

import numpy as np

__all__ = ['SafeModelUnpickler', 'PickledStateStandIn']

_numpy_core = getattr(np, '_core', None) or np.core  # numpy >= 2 renamed numpy.core to numpy._core


class PickledStateStandIn:
    """Inert stand-in for a chumpy object or a scipy sparse matrix: it only keeps the state pickle hands it.

    ``kind`` is ``'chumpy'`` or ``'sparse'``; ``global_name`` the ``module.name`` the file named; ``state`` the
    object's pickled ``__dict__`` (chumpy's ``Ch`` keeps its value in ``state['x']``; scipy's compressed matrices
    keep ``data``, ``indices``, ``indptr`` and ``_shape`` or ``shape``).
    """

    kind = ''
    global_name = ''

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args  # a constructor call's arguments, if the file called the class instead of NEWOBJ
        self.state: Dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):  # (dict, slots) form
            state = {**(state[0] or {}), **state[1]}
        self.state = dict(state) if isinstance(state, dict) else {'state': state}


def _stand_in(kind: str, global_name: str) -> type:
    """A :class:`PickledStateStandIn` subclass that remembers which global it replaced."""
    return type(f'{kind.capitalize()}StandIn', (PickledStateStandIn, ), dict(kind=kind, global_name=global_name))


def _allowed_globals() -> Dict[Tuple[str, str], Callable]:
    """``(module, name)`` -> what it is read as. Only array reconstruction, inert stand-ins and the plumbing
    Python 2 pickles use to call their ``__new__`` (``copy_reg._reconstructor`` on an admitted class)."""
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
    """``pickle.Unpickler`` whose :meth:`find_class` admits only numpy array reconstruction, scipy's csc/csr
    matrices and chumpy objects (both read as :class:`PickledStateStandIn`), as SMPL's model files need.

    Any other global (``os.system``, ``builtins.eval``, ``subprocess.Popen`` ...) raises ``pickle.UnpicklingError``
    naming the file and the global, before anything is imported or called. Python 2 strings are decoded as latin1,
    as numpy needs for the raw bytes of Python 2 arrays.

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
