"""tools/gpu_benchmark.py (pose_plugins.apis.gpu_benchmark) pieces that need no GPU: the rows it hands the benchmark
table and the stand-ins for missing compiled ops (the GPU figures themselves come from a GPU machine, README
"Performance")."""
import os
import subprocess
import sys

import pytest

from conftest import REPO
from pose_plugins.apis import gpu_benchmark
from pose_plugins.apis.missing_ops import MissingOpsStandIn


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
    finder = MissingOpsStandIn(('fake_compiled_ops', ))
    monkeypatch.setattr(sys, 'meta_path', [finder, *sys.meta_path])
    monkeypatch.delitem(sys.modules, 'fake_compiled_ops', raising=False)
    monkeypatch.delitem(sys.modules, 'fake_compiled_ops.nms', raising=False)
    from fake_compiled_ops.nms import batched_nms  # noqa: F401  (what mmdet does at import time)
    with pytest.raises(RuntimeError, match=r'fake_compiled_ops.nms.batched_nms is a stand-in'):
        batched_nms()


def test_tool_installs_the_stand_ins_before_pose_plugins_imports_mmpose(tmp_path):
    """``--stub-missing-ops`` with an xtcocotools that cannot import (a broken one first on the path): the tool
    stands in for it before the package (and through it mmpose) is imported, so the package imports."""
    broken = tmp_path / 'xtcocotools'
    broken.mkdir()
    (broken / '__init__.py').write_text("raise ImportError('no compiled xtcocotools here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO), os.environ.get('PYTHONPATH', '')]))
    out = subprocess.run([sys.executable, 'tools/gpu_benchmark.py', '--stub-missing-ops', '--help'], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "stand-ins for ['xtcocotools'] (--stub-missing-ops)" in out.stdout
    assert '--batch-sizes' in out.stdout  # the package's parser answered --help
