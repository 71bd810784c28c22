"""tools/model_complexity.py's counts: our configs equal mmpose's same models under the same counter."""
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from conftest import REPO
from pose_plugins.analysis import model_complexity

MMPOSE_CONFIGS = Path(__import__('mmpose').__file__).parent / '.mim' / 'configs'


@pytest.mark.parametrize('ours, theirs', [
    ('hrnet_w32_coco.py', 'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py'),
    ('hrnet_w48_coco.py', 'td-hm_hrnet-w48_8xb32-210e_coco-256x192.py'),
    ('simplebaseline_res50_coco.py', 'td-hm_res50_8xb64-210e_coco-256x192.py'),
])
def test_counts_equal_mmposes_model(ours, theirs):
    mine = model_complexity(Config.fromfile(str(REPO / 'configs' / ours)))
    ref_cfg = Config.fromfile(str(MMPOSE_CONFIGS / 'body_2d_keypoint' / 'topdown_heatmap' / 'coco' / theirs))
    ref_cfg.model.backbone.init_cfg = None  # no download
    ref = model_complexity(ref_cfg)
    assert mine == ref
    assert mine.input_hw == (256, 192)


def test_hrnet_w32_matches_published_parameter_count():
    c = model_complexity(Config.fromfile(str(REPO / 'configs' / 'hrnet_w32_coco.py')))
    assert round(c.params / 1e6, 1) == 28.5  # Sun et al. 2019, Table 1
    assert 7.0e9 < c.flops < 7.8e9  # paper: 7.1 G; mmengine's counter gives 7.69 G for the same network


def test_cli_prints_a_markdown_row():
    out = subprocess.run([sys.executable, 'tools/model_complexity.py', 'configs/demo/hrnet_tiny_synthetic.py'],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert '| hrnet_tiny_synthetic.py | 128x96 |' in out.stdout


def test_missing_codec_is_a_clear_error():
    with pytest.raises(KeyError, match='input_size'):
        model_complexity(Config(dict(model=dict(type='TopdownPoseEstimator'))))


def test_a_head_without_a_codec_takes_the_test_pipelines_input_size():
    """The SMPL regression head decodes itself (no codec): the crop size comes from the test pipeline."""
    from pose_plugins.analysis import _input_hw
    pipeline = [dict(type='LoadImage'), dict(type='TopdownAffine', input_size=(64, 48))]
    assert _input_hw(Config(dict(test_dataloader=dict(dataset=dict(pipeline=pipeline))))) == (48, 64)
