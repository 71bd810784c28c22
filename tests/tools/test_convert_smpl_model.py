"""tools/convert_smpl_model.py: an official-layout .pkl becomes a clean .npz once; nothing is overwritten."""
import numpy as np
import pytest

from pose_plugins.apis import convert_smpl_model
from pose_plugins.body_models import load_smpl_model_file
from pose_plugins.cli import UsageError
from pose_plugins.synthetic import write_synthetic_smpl


@pytest.fixture(scope='module')
def official_layout_pkl(tmp_path_factory):
    return write_synthetic_smpl(tmp_path_factory.mktemp('smpl') / 'SMPL_NEUTRAL.pkl')


def test_converts_once_and_never_overwrites(tmp_path, official_layout_pkl) -> None:
    out = tmp_path / 'SMPL_NEUTRAL.npz'
    assert convert_smpl_model.main([str(official_layout_pkl), str(out)]) == out
    want = load_smpl_model_file(official_layout_pkl)
    with np.load(out, allow_pickle=False) as npz:  # clean: no object arrays
        assert sorted(npz.files) == sorted(want)
        for key in want:
            np.testing.assert_array_equal(npz[key], want[key], err_msg=key)
    before = out.read_bytes()
    with pytest.raises(UsageError, match="exists; not overwriting"):
        convert_smpl_model.main([str(official_layout_pkl), str(out)])
    assert out.read_bytes() == before


def test_refuses_other_outputs_and_bad_inputs(tmp_path, official_layout_pkl) -> None:
    with pytest.raises(UsageError, match="the output must be a .npz file"):
        convert_smpl_model.main([str(official_layout_pkl), str(tmp_path / 'out.pkl')])
    bad = tmp_path / 'bad.pkl'
    bad.write_bytes(b'cos\nsystem\n(S"true"\ntR.')  # os.system('true') in protocol 0
    with pytest.raises(Exception, match=r'refusing the pickled global os\.system'):
        convert_smpl_model.main([str(bad), str(tmp_path / 'out.npz')])
    assert not (tmp_path / 'out.npz').exists()
