"""The safe SMPL model-file loader: refuses pickled code, reads chumpy arrays without chumpy and scipy sparse
matrices, checks every field, and round-trips .npz and SMPL's .pkl layout without ever overwriting a file."""
import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.sparse

from pose_plugins.body_models import load_smpl_model_file, save_smpl_model_file
from pose_plugins.synthetic import make_synthetic_smpl
from pose_plugins.body_models.safe_unpickler import SafeModelUnpickler


@pytest.fixture(scope='module')
def arrays():
    return make_synthetic_smpl(seed=0)


class _Payload:
    """Pickles as a call of ``function(*args)``: what a malicious model file would contain."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


@pytest.mark.parametrize('function, global_name', [
    (os.system, rf'{os.system.__module__}\.system'),
    (subprocess.call, r'(subprocess|commands)\.call'),  # protocols 0-2 write Python 2's module name
    (eval, r'(builtins|__builtin__)\.eval'),
], ids=['os.system', 'subprocess', 'eval'])
@pytest.mark.parametrize('protocol', [0, 2, 4])
def test_malicious_pickle_is_refused_without_running(tmp_path, function, global_name: str, protocol: int) -> None:
    marker = tmp_path / 'ran'
    command = f'open({str(marker)!r}, "w").close()' if function is eval else f'touch {marker}'
    payload = _Payload(function, command if function is not subprocess.call else ['touch', str(marker)])
    path = tmp_path / 'SMPL_NEUTRAL.pkl'
    path.write_bytes(pickle.dumps({'v_template': payload}, protocol=protocol))
    with pytest.raises(pickle.UnpicklingError, match=rf'{path}: refusing the pickled global {global_name}'):
        load_smpl_model_file(path)
    assert not marker.exists()


def _fake_chumpy(monkeypatch):
    """A stand-in ``chumpy.ch.Ch`` that pickles as chumpy's does (its ``__dict__`` with the value in ``x``)."""
    package, module = types.ModuleType('chumpy'), types.ModuleType('chumpy.ch')

    class Ch:
        def __init__(self, x):
            self.x = np.asarray(x)
            self.dterms = ['x']
            self._dirty_vars = set()

    Ch.__module__, Ch.__qualname__ = 'chumpy.ch', 'Ch'
    module.Ch, package.ch = Ch, module
    monkeypatch.setitem(sys.modules, 'chumpy', package)
    monkeypatch.setitem(sys.modules, 'chumpy.ch', module)
    return Ch


def _official_layout(arrays, Ch):
    """The layout of SMPL's .pkl: chumpy arrays, a scipy csc J_regressor, uint32 faces, the root parent 2**32-1."""
    kintree = arrays['kintree_table'].copy()
    kintree[0, 0] = 2**32 - 1
    return dict(v_template=Ch(arrays['v_template']), shapedirs=Ch(arrays['shapedirs']), posedirs=arrays['posedirs'],
                J_regressor=scipy.sparse.csc_matrix(arrays['J_regressor']), weights=Ch(arrays['weights']),
                kintree_table=kintree, f=arrays['f'].astype(np.uint32), J=Ch(np.zeros((24, 3))),
                bs_style='lbs', bs_type='lrotmin', vert_sym_idxs=np.arange(6890))


def test_chumpy_and_sparse_fields_load_without_chumpy(tmp_path, monkeypatch, arrays) -> None:
    Ch = _fake_chumpy(monkeypatch)
    path = tmp_path / 'basicmodel_neutral_lbs_10_207_0_v1.0.0.pkl'
    path.write_bytes(pickle.dumps(_official_layout(arrays, Ch), protocol=2))
    monkeypatch.setitem(sys.modules, 'chumpy', None)  # importing chumpy would now fail
    monkeypatch.setitem(sys.modules, 'chumpy.ch', None)
    loaded = load_smpl_model_file(path)
    assert set(loaded) == set(arrays)
    for key in arrays:
        np.testing.assert_array_equal(loaded[key], arrays[key], err_msg=key)


def test_python2_style_pickle_plumbing(monkeypatch) -> None:
    """Protocol 0: what Python 2 wrote (``copy_reg._reconstructor``, ``__builtin__.object``, latin1 strings)."""
    import io
    Ch = _fake_chumpy(monkeypatch)
    data = dict(x=Ch(np.arange(6.0).reshape(2, 3)), s=scipy.sparse.csr_matrix(np.eye(3)), n=np.float64(2.5))
    raw = pickle.dumps(data, protocol=0)
    assert b'copy_reg' in raw and b'__builtin__' in raw
    loaded = SafeModelUnpickler(io.BytesIO(raw), source='in-memory').load()
    np.testing.assert_array_equal(loaded['x'].state['x'], np.arange(6.0).reshape(2, 3))
    assert loaded['x'].kind == 'chumpy' and loaded['s'].kind == 'sparse' and loaded['n'] == 2.5


@pytest.mark.parametrize('protocol', [2, 4, 5])
def test_plain_python3_pickles_of_the_arrays_load(tmp_path, arrays, protocol: int) -> None:
    """What chumpy-removal scripts write: a dict of plain arrays (protocol 5 rebuilds them with _frombuffer)."""
    path = tmp_path / 'SMPL_NEUTRAL.pkl'
    path.write_bytes(pickle.dumps(arrays, protocol=protocol))
    loaded = load_smpl_model_file(path)
    for key in arrays:
        np.testing.assert_array_equal(loaded[key], arrays[key], err_msg=key)


@pytest.mark.parametrize('suffix', ['.npz', '.pkl'])
def test_round_trip_and_no_overwrite(tmp_path, arrays, suffix: str) -> None:
    path = save_smpl_model_file(tmp_path / f'model{suffix}', arrays)
    loaded = load_smpl_model_file(path)
    for key in arrays:
        np.testing.assert_array_equal(loaded[key], arrays[key], err_msg=key)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match='not overwriting'):
        save_smpl_model_file(path, arrays)
    assert path.read_bytes() == before


def _broken(arrays, field, value):
    broken = dict(arrays)
    if value is None:
        del broken[field]
    else:
        broken[field] = value
    return broken


@pytest.mark.parametrize('field, value, pattern', [
    ('v_template', np.zeros((6889, 3)), r"field 'v_template' must have shape \(6890, 3\).*got \(6889, 3\)"),
    ('shapedirs', np.zeros((6890, 3, 5)),
     r"field 'shapedirs' must have at least 10 shape directions, got shape \(6890, 3, 5\)"),
    ('posedirs', None, r"missing field\(s\) \['posedirs'\]"),
    ('f', np.full((13776, 3), 6890), r"field 'f' must index vertices in \[0, 6890\)"),
    ('weights', np.full((6890, 24), np.nan), r"field 'weights' has non-finite values"),
    ('kintree_table', np.zeros((2, 24), dtype=np.int64), r"field 'kintree_table' must be \[parents; 0..23\]"),
], ids=['shape', 'betas', 'missing', 'faces', 'nan', 'kintree'])
def test_bad_fields_are_named(tmp_path, arrays, field, value, pattern: str) -> None:
    path = tmp_path / 'bad.npz'
    np.savez(path, **_broken(arrays, field, value))
    with pytest.raises(ValueError, match=rf'{path}: .*' + pattern):
        load_smpl_model_file(path)


def test_other_file_errors(tmp_path, arrays, monkeypatch) -> None:
    with pytest.raises(FileNotFoundError, match='missing.pkl does not exist'):
        load_smpl_model_file(tmp_path / 'missing.pkl')
    (tmp_path / 'model.obj').write_text('v 0 0 0\n')
    with pytest.raises(ValueError, match=r"unknown SMPL model file type '\.obj'"):
        load_smpl_model_file(tmp_path / 'model.obj')
    objects = tmp_path / 'objects.npz'
    np.savez(objects, **_broken(arrays, 'v_template', np.array([None, 1], dtype=object)))
    with pytest.raises(ValueError, match=rf'{objects}: cannot read it without pickle'):
        load_smpl_model_file(objects)
    Ch = _fake_chumpy(monkeypatch)
    expression = Ch(np.zeros(1))
    del expression.x  # a chumpy expression (e.g. a sum) stores its terms, not its value
    path = tmp_path / 'expression.pkl'
    path.write_bytes(pickle.dumps(dict(_official_layout(arrays, Ch), shapedirs=expression), protocol=2))
    with pytest.raises(ValueError, match=r"field 'shapedirs' is a chumpy expression \(chumpy\.ch\.Ch\)"):
        load_smpl_model_file(path)
    with pytest.raises(ValueError, match=r'written as \.npz or \.pkl'):
        save_smpl_model_file(tmp_path / 'model.npy', arrays)
