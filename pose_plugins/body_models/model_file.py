"""Reading and writing SMPL model files (.pkl in SMPL's layout, or a clean .npz) without chumpy or pickled code.

Note:
    V: 6890 vertices; F: 13776 faces; J: 24 joints; P: 207 pose-corrective coefficients; S >= 10 betas
"""
import os
import pickle
from pathlib import Path
from typing import Any, Dict, Union

import numpy as np
import scipy.sparse

from .safe_unpickler import PickledStateStandIn, SafeModelUnpickler
from .smpl_format import SMPL_FIELDS, SMPL_MIN_BETAS, SMPL_NUM_JOINTS, SMPL_NUM_VERTICES

__all__ = ['load_smpl_model_file', 'save_smpl_model_file', 'check_smpl_arrays']

PathLike = Union[str, os.PathLike]
_INTEGER_FIELDS = ('f', 'kintree_table')
_ROOT_PARENT_IN_FILES = 2**32 - 1  # kintree_table[0, 0] of SMPL's files (-1 as uint32)


def _as_plain_array(value: Any, *, source: str, field: str) -> np.ndarray:
    """A field as a dense numeric array (chumpy's stored ``x``, sparse densified); ValueError otherwise."""
    if isinstance(value, PickledStateStandIn):
        state = getattr(value, 'state', None) or {}
        if value.kind == 'chumpy':
            if 'x' not in state:
                raise ValueError(f'{source}: field {field!r} is a chumpy expression ({value.global_name}) without a '
                                 'stored value x; only plain chumpy arrays (chumpy.ch.Ch) can be read without chumpy')
            return _as_plain_array(state['x'], source=source, field=field)
        missing = [key for key in ('data', 'indices', 'indptr') if key not in state]
        shape = state.get('_shape', state.get('shape'))
        if missing or shape is None:
            raise ValueError(f'{source}: field {field!r} is a {value.global_name} whose pickled state lacks '
                             f"{missing + ([] if shape is not None else ['_shape'])} (keys: {sorted(state)})")
        matrix_type = scipy.sparse.csc_matrix if value.global_name.endswith('csc_matrix') else scipy.sparse.csr_matrix
        parts = tuple(np.asarray(state[key]) for key in ('data', 'indices', 'indptr'))
        return matrix_type(parts, shape=tuple(int(n) for n in shape)).toarray()
    array = np.asarray(value)
    if array.dtype.kind not in 'biuf':
        raise ValueError(f'{source}: field {field!r} must be a numeric array, got {type(value).__name__} with dtype '
                         f'{array.dtype}')
    return array


def check_smpl_arrays(arrays: Dict[str, Any], *, source: str) -> Dict[str, np.ndarray]:
    """The fields of SMPL's format from ``arrays``, checked, as float64 (int64 for ``f`` and ``kintree_table``).

    Args:
        arrays (dict): At least the keys of :data:`~.smpl_format.SMPL_FIELDS`; others are dropped.
        source (str): Their origin, for error messages.

    Returns:
        Dict[str, np.ndarray]: ``v_template`` (V, 3), ``shapedirs`` (V, 3, S), ``posedirs`` (V, 3, P),
        ``J_regressor`` (J, V) dense, ``weights`` (V, J), ``kintree_table`` (2, J) (root parent -1), ``f`` (F, 3).

    Raises:
        ValueError: A field is missing, non-numeric, non-finite or of the wrong shape.
    """
    missing = [field for field in SMPL_FIELDS if field not in arrays]
    if missing:
        raise ValueError(f'{source}: not a SMPL model file: missing field(s) {missing} (it has {sorted(arrays)})')
    checked = {}
    for field, expected in SMPL_FIELDS.items():
        array = _as_plain_array(arrays[field], source=source, field=field)
        if array.ndim != len(expected) or any(n is not None and n != got for n, got in zip(expected, array.shape)):
            shown = '(' + ', '.join(f'S>={SMPL_MIN_BETAS}' if n is None else str(n) for n in expected) + ')'
            raise ValueError(f"{source}: field {field!r} must have shape {shown} (SMPL's format), got {array.shape}")
        if field == 'shapedirs' and array.shape[2] < SMPL_MIN_BETAS:
            raise ValueError(f"{source}: field 'shapedirs' must have at least {SMPL_MIN_BETAS} shape directions, "
                             f'got shape {array.shape}')
        if field in _INTEGER_FIELDS:
            if array.dtype.kind not in 'iu' and not np.array_equal(array, np.round(array)):
                raise ValueError(f'{source}: field {field!r} must hold integers, got dtype {array.dtype}')
            array = array.astype(np.int64)
        else:
            array = array.astype(np.float64)
            if not np.isfinite(array).all():
                raise ValueError(f'{source}: field {field!r} has non-finite values (NaN or inf)')
        checked[field] = array
    faces = checked['f']
    if faces.min() < 0 or faces.max() >= SMPL_NUM_VERTICES:
        raise ValueError(f"{source}: field 'f' must index vertices in [0, {SMPL_NUM_VERTICES}), got values in "
                         f'[{faces.min()}, {faces.max()}]')
    kintree = checked['kintree_table']
    kintree[0, 0] = -1  # the root has no parent: 2**32 - 1 in SMPL's files, -1 in smplx
    parents = kintree[0, 1:]
    if not np.array_equal(kintree[1], np.arange(SMPL_NUM_JOINTS)) or \
            not (parents < np.arange(1, SMPL_NUM_JOINTS)).all() or (parents < 0).any():
        raise ValueError(f"{source}: field 'kintree_table' must be [parents; 0..{SMPL_NUM_JOINTS - 1}] with every "
                         f'parent an earlier joint, got {kintree.tolist()}')
    return checked


def load_smpl_model_file(path: PathLike) -> Dict[str, np.ndarray]:
    """The arrays of :func:`check_smpl_arrays` from a SMPL ``.pkl`` (read by
    :class:`~.safe_unpickler.SafeModelUnpickler`) or ``.npz`` (``allow_pickle=False``) model file.

    Args:
        path (str | os.PathLike): The model file, e.g. ``SMPL_NEUTRAL.pkl``.

    Raises:
        FileNotFoundError | ValueError | pickle.UnpicklingError: Missing, unreadable or malformed file.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise FileNotFoundError(f'SMPL model file {source} does not exist (real use needs your own SMPL file from '
                                'https://smpl.is.tue.mpg.de; tests and demos use pose_plugins.SyntheticSMPL, NOT SMPL)')
    suffix = path.suffix.lower()
    if suffix == '.npz':
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except ValueError as error:  # object arrays need pickle
            raise ValueError(f'{source}: cannot read it without pickle ({error}); convert the original model with '
                             'tools/convert_smpl_model.py') from error
    elif suffix == '.pkl':
        with open(path, 'rb') as file:
            arrays = SafeModelUnpickler(file, source=source).load()
        if not isinstance(arrays, dict):
            raise ValueError(f'{source}: a SMPL .pkl holds a dict of arrays, got {type(arrays).__name__}')
    else:
        raise ValueError(f'{source}: unknown SMPL model file type {path.suffix!r}; expected .pkl or .npz')
    return check_smpl_arrays(arrays, source=source)


def save_smpl_model_file(path: PathLike, arrays: Dict[str, np.ndarray]) -> Path:
    """Write SMPL model arrays to a new ``.npz`` (no pickle) or a chumpy-free ``.pkl`` in SMPL's layout.

    Args:
        path (str | os.PathLike): The new file; an existing file is never overwritten.
        arrays (dict): The fields of :func:`check_smpl_arrays`.

    Returns:
        Path: ``path``.

    Raises:
        FileExistsError: ``path`` exists.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ('.npz', '.pkl'):
        raise ValueError(f'{path}: a SMPL model file is written as .npz or .pkl, got {path.suffix!r}')
    checked = check_smpl_arrays(arrays, source=f'arrays for {path}')
    try:
        file = open(path, 'xb')
    except FileExistsError:
        raise FileExistsError(f'{path} exists; not overwriting it (remove it or choose another name)') from None
    try:
        with file:
            if suffix == '.npz':
                np.savez_compressed(file, **checked)
            else:
                kintree = checked['kintree_table'].copy()
                kintree[0, 0] = _ROOT_PARENT_IN_FILES
                layout = dict(checked, J_regressor=scipy.sparse.csc_matrix(checked['J_regressor']),
                              f=checked['f'].astype(np.uint32), kintree_table=kintree,
                              J=checked['J_regressor'] @ checked['v_template'], bs_style='lbs', bs_type='lrotmin')
                pickle.dump(layout, file, protocol=2)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
