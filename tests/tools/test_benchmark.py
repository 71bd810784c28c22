"""tools/benchmark.py (pose_plugins.apis.benchmark) smoke run: every cheap section runs, ours and mmpose's rows are
both there, outputs agree. No timing is asserted (timings belong to the benchmark's table, not to tests)."""
import json

import pytest
import torch

from conftest import REPO
from pose_plugins.apis import benchmark


@pytest.mark.slow
def test_quick_run_writes_rows_of_both_sides(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    benchmark.main(['--quick', '--only', 'encode,decode,pipeline,gpu_train', '--out', str(out)])
    rows = json.loads(out.read_text())['rows']
    assert {row['section'] for row in rows} == {'encode', 'decode', 'pipeline', 'gpu_train'}
    for row in rows:
        if row['section'] != 'gpu_train':
            assert row['ours']['median'] > 0 and row['mmpose']['median'] > 0, row['name']
    for row in rows:
        if row['section'] == 'encode' and 'CPN' not in row['name']:
            # the batched float32 Gaussian vs mmpose's: < 1e-6 (pose_plugins/codecs/utils/batch_encode.py)
            assert row['max_diff'] < 1e-6, row['name']
        if row['section'] == 'encode' and 'CPN' in row['name']:
            # 255 * ours vs MegviiHeatmap away from the border: float32 rounding of values <= 255 (~3e-5)
            assert row['max_diff'] < 1e-3, row['name']
    if not torch.cuda.is_available():
        assert [row['name'] for row in rows if row['section'] == 'gpu_train'] == ['GPU training: skipped (no CUDA)']
    printed = capsys.readouterr().out
    assert '| pipeline | train pipeline, demo images' in printed and 'samples/s a worker' in printed


def test_mmpose_equivalent_of_the_demo_config():
    cfg = benchmark.synthetic_train_config(str(REPO / 'configs' / 'demo' / 'hrnet_tiny_synthetic.py'), '/data/')
    theirs = benchmark.mmpose_equivalent(cfg)
    types = [step['type'] for step in theirs.train_dataloader.dataset.pipeline]
    assert types[-2:] == ['GenerateTarget', 'PackPoseInputs'] and not any('pose_plugins' in t for t in types)
    assert theirs.model.data_preprocessor.type == 'PoseDataPreprocessor'
    assert 'encoder' not in theirs.model.data_preprocessor
    assert theirs.model.backbone.type == 'HRNet' and theirs.train_dataloader.dataset.type == 'CocoDataset'
    assert cfg.model.data_preprocessor.type == 'pose_plugins.TopdownTargetDataPreprocessor'  # ours untouched


def test_unknown_section_is_an_error():
    with pytest.raises(SystemExit):
        benchmark.parse_args(['--only', 'decode,bogus'])
