"""End to end through the real tools: train, test, resume, CPU-distributed train and inference (slow)."""
import hashlib
import json
import re

import pytest

from conftest import DEMO_CONFIG, foreign_stderr_lines, run_tool, tiny_run_options

pytestmark = pytest.mark.slow


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _log_text(work_dir) -> str:
    return '\n'.join(p.read_text() for p in sorted(work_dir.glob('*/*.log')))


@pytest.fixture(scope='module')
def training_run(tmp_path_factory, tiny_coco):
    """One epoch of the demo config on the tiny set through tools/train.py: the work dir and the finished process."""
    work_dir = tmp_path_factory.mktemp('work')
    out = run_tool(['tools/train.py', str(DEMO_CONFIG), '--work-dir', str(work_dir),
                    '--cfg-options', *tiny_run_options(tiny_coco, max_epochs=1)])
    assert out.returncode == 0, out.stderr[-4000:]
    return work_dir, out


@pytest.fixture(scope='module')
def trained(training_run):
    return training_run[0]


def test_training_prints_nothing_but_mmengines_log_on_stderr(training_run):
    assert foreign_stderr_lines(training_run[1].stderr) == [], training_run[1].stderr[-3000:]


def test_train_writes_checkpoint_and_evaluates(trained):
    assert (trained / 'epoch_1.pth').is_file()
    log = _log_text(trained)
    assert re.search(r'coco/AP: [0-9.]+', log), log[-2000:]
    assert 'pose_plugins.HRNet' in log or 'HRNet' in log


def test_training_from_scratch_never_overwrites_checkpoints(trained, tiny_coco):
    before = _digest(trained / 'epoch_1.pth')
    out = run_tool(['tools/train.py', str(DEMO_CONFIG), '--work-dir', str(trained),
                    '--cfg-options', *tiny_run_options(tiny_coco, max_epochs=1)])
    assert out.returncode != 0
    assert 'already holds checkpoints' in out.stderr and '--resume' in out.stderr
    assert _digest(trained / 'epoch_1.pth') == before


def test_resume_continues_from_last_epoch(trained, tiny_coco, tmp_path):
    import shutil
    work_dir = tmp_path / 'resume'
    shutil.copytree(trained, work_dir)
    out = run_tool(['tools/train.py', str(DEMO_CONFIG), '--work-dir', str(work_dir), '--resume',
                    '--cfg-options', *tiny_run_options(tiny_coco, max_epochs=2)])
    assert out.returncode == 0, out.stderr[-4000:]
    assert (work_dir / 'epoch_2.pth').is_file()
    assert re.search(r'resumed epoch: 1', _log_text(work_dir)), _log_text(work_dir)[-3000:]


def test_test_tool_reports_metrics_and_never_overwrites_out(trained, tiny_coco, tmp_path):
    metrics_file = tmp_path / 'metrics.json'
    args = ['tools/test.py', str(DEMO_CONFIG), str(trained / 'epoch_1.pth'), '--work-dir', str(tmp_path / 'w'),
            '--out', str(metrics_file), '--cfg-options', *tiny_run_options(tiny_coco)]
    out = run_tool(args)
    assert out.returncode == 0, out.stderr[-4000:]
    metrics = json.loads(metrics_file.read_text())
    assert 0.0 <= metrics['coco/AP'] <= 1.0 and 'coco/AR' in metrics
    again = run_tool(args)
    assert again.returncode != 0 and 'refusing to overwrite' in again.stderr


def test_inferencer_draws_and_writes_predictions(trained, tiny_coco, tmp_path):
    val = json.loads((tiny_coco / 'annotations' / 'person_keypoints_val2017.json').read_text())
    image = val['images'][0]
    image_path = tiny_coco / 'val2017' / image['file_name']
    boxes = [[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]]
             for a in val['annotations'] if a['image_id'] == image['id']]
    out_dir = tmp_path / 'infer'
    out = run_tool(['tools/infer.py', str(DEMO_CONFIG), str(trained / 'epoch_1.pth'), str(image_path),
                    '--out-dir', str(out_dir), '--bboxes', json.dumps(boxes)])
    assert out.returncode == 0, out.stderr[-4000:]
    assert (out_dir / 'visualizations' / image['file_name']).stat().st_size > 1000
    preds = json.loads((out_dir / 'predictions' / (image['file_name'].rsplit('.', 1)[0] + '.json')).read_text())
    assert len(preds) == len(boxes)
    assert all(len(p['keypoints']) == 17 and len(p['keypoint_scores']) == 17 for p in preds)
    # whole-image mode (no boxes): one person per image
    whole = run_tool(['tools/infer.py', str(DEMO_CONFIG), str(trained / 'epoch_1.pth'), str(image_path),
                      '--out-dir', str(tmp_path / 'whole')])
    assert whole.returncode == 0, whole.stderr[-4000:]
    assert len(json.loads((tmp_path / 'whole' / 'predictions' /
                           (image['file_name'].rsplit('.', 1)[0] + '.json')).read_text())) == 1
    # a second run into the same folder refuses instead of overwriting
    again = run_tool(['tools/infer.py', str(DEMO_CONFIG), str(trained / 'epoch_1.pth'), str(image_path),
                      '--out-dir', str(tmp_path / 'whole')])
    assert again.returncode != 0 and 'already holds results' in again.stderr
