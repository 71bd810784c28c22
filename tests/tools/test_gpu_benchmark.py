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


def test_every_section_runs_on_the_cpu(tmp_path):
    """The whole tool on the CPU with the demo's small HRNet: step rows (a bf16 recipe fails alone, as it needs CUDA),
    their profiles, the three data paths alone and in the loop, and loss curves from mmpose's weights."""
    import json

    from pose_plugins.synthetic import SyntheticCocoConfig, make_synthetic_coco
    data = tmp_path / 'data'
    make_synthetic_coco(data, num_train_images=6, num_val_images=1, seed=0,
                        config=SyntheticCocoConfig(image_size=(320, 240), people_per_image=(2, 3),
                                                   person_height=(100.0, 200.0)))
    out = tmp_path / 'gpu.json'
    fp32 = ['mmpose fp32', 'ours fp32', 'ours fp32 nosync fused']
    gpu_benchmark.main(['--device', 'cpu', '--config', str(REPO / 'configs/demo/hrnet_tiny_synthetic.py'),
                        '--sections', 'step', 'profile', 'loader', 'loss', '--batch-sizes', '2',
                        '--recipes', *fp32, 'ours fast', '--steps', '1', '--repeats', '1', '--warmup', '0',
                        '--profile-steps', '2', '--data-root', str(data), '--workers', '0', '--loader-batches', '1',
                        '--loader-batch', '2', '--loop-recipe', 'ours fp32 nosync fused',
                        '--loss-recipe', 'ours fp32 nosync fused', '--loss-steps', '4', '--loss-batches', '2',
                        '--loss-batch', '2', '--loss-window', '2', '--out', str(out)])
    results = json.loads(out.read_text())
    rows = {r['recipe']: r for r in results['rows']}
    assert all(rows[name]['img_s'] > 0 and rows[name]['profile']['steps'] == 2 for name in fp32)
    assert rows['mmpose fp32']['vs_mmpose_fp32'] == 1.0
    assert 'AmpOptimizerWrapper' in rows['ours fast']['error']  # bf16 autocast needs a GPU; the other rows stand
    assert [r['path'] for r in results['loader']] == ['mmpose', 'ours', 'ours crop on device']
    assert all(r['data_img_s'] > 0 and r['loop_img_s'] > 0 for r in results['loader'])
    curves = results['loss']['curves']
    assert list(curves) == ['mmpose fp32', 'ours fp32 nosync fused'] and all(len(c) == 4 for c in curves.values())
    # the same weights and batches: two float32 evaluations of one network differ only in the order of their sums,
    # ~sqrt(n) 2**-24 relative for reductions over n <= 1e5 terms (~2e-5); 1e-4 leaves a margin
    first = [c[0] for c in curves.values()]
    assert abs(first[0] - first[1]) <= 1e-4 * abs(first[0])
    text = gpu_benchmark.table(results, 'cpu')
    assert '| ours fp32 nosync fused | 2 |' in text and 'ours crop on device' in text and 'Loss curves' in text


def test_stood_in_xtcocotools_reads_a_set_as_the_real_one(tmp_path):
    """Where xtcocotools cannot import, ``--stub-missing-ops`` gives pycocotools' ``COCO`` as
    ``xtcocotools.coco.COCO``: mmpose's ``CocoDataset`` lists the same samples as with the real xtcocotools."""
    import json

    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    from pose_plugins.synthetic import make_synthetic_coco
    data = tmp_path / 'data'
    make_synthetic_coco(data, num_train_images=4, num_val_images=1, seed=0)
    dataset = dict(type='CocoDataset', data_root=str(data), ann_file='annotations/person_keypoints_train2017.json',
                   data_prefix=dict(img='train2017/'), pipeline=[], serialize_data=False)
    script = ("import json, runpy, sys\n"
              "runpy.run_path('pose_plugins/apis/missing_ops.py')['stub_missing_ops']()\n"
              "from mmengine.registry import init_default_scope\n"
              "from mmpose.registry import DATASETS\n"
              "import pose_plugins\n"
              "init_default_scope('mmpose')\n"
              f"d = DATASETS.build({dataset!r})\n"
              "print(json.dumps([d.get_data_info(i) for i in range(len(d))], default=repr))\n")
    broken = tmp_path / 'xtcocotools'
    broken.mkdir()
    (broken / '__init__.py').write_text("raise ImportError('no compiled xtcocotools here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO), os.environ.get('PYTHONPATH', '')]))
    out = subprocess.run([sys.executable, '-c', script], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "stand-ins for ['xtcocotools']" in out.stdout
    stood_in = json.loads(out.stdout.splitlines()[-1])
    init_default_scope('mmpose')
    real = DATASETS.build(dataset)
    assert len(stood_in) == len(real) > 4
    assert stood_in == json.loads(json.dumps([real.get_data_info(i) for i in range(len(real))], default=repr))
