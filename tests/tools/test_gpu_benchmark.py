"""tools/gpu_benchmark.py pieces that need no GPU: the rows it hands tools/benchmark.py and the stand-ins for
missing compiled ops (the GPU figures themselves come from a GPU machine, README "Performance")."""
import importlib.util
import sys

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location('gpu_benchmark', REPO / 'tools' / 'gpu_benchmark.py')
gpu_benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_benchmark)


def _row(recipe, batch, img_s, low, high, peak=None):
    return dict(recipe=recipe, batch=batch, img_s=img_s, img_s_min=low, img_s_max=high, peak_mem_gib=peak, mfu=0.02,
                repeats=3)


def test_benchmark_rows_pair_each_recipe_with_mmposes_at_the_same_batch():
    rows = [_row('mmpose fp32', 64, 400.0, 300.0, 450.0, 9.7),
            _row('ours bf16 + channels_last', 64, 800.0, 640.0, 1000.0, 6.7),
            _row('ours fp32', 256, 470.0, 460.0, 480.0)]
    ours_bf16, ours_fp32 = gpu_benchmark.benchmark_rows(rows)
    assert ours_bf16['section'] == 'gpu_train' and 'B=64, peak 6.7 GiB' in ours_bf16['name']
    # seconds per step, shown by tools/benchmark.py as scale / seconds = img/s
    assert ours_bf16['ours'] == dict(median=64 / 800.0, min=64 / 1000.0, max=64 / 640.0, repeats=3)
    assert ours_bf16['mmpose']['median'] == pytest.approx(64 / 400.0) and ours_bf16['scale'] == 64
    assert 'mmpose' not in ours_fp32 and 'peak' not in ours_fp32['name']  # no baseline measured at B=256


def test_stand_ins_import_but_refuse_to_be_used(monkeypatch):
    finder = gpu_benchmark._MissingOpsStandIn(('fake_compiled_ops', ))
    monkeypatch.setattr(sys, 'meta_path', [finder, *sys.meta_path])
    monkeypatch.delitem(sys.modules, 'fake_compiled_ops', raising=False)
    monkeypatch.delitem(sys.modules, 'fake_compiled_ops.nms', raising=False)
    from fake_compiled_ops.nms import batched_nms  # noqa: F401  (what mmdet does at import time)
    with pytest.raises(RuntimeError, match=r'fake_compiled_ops.nms.batched_nms is a stand-in'):
        batched_nms()
