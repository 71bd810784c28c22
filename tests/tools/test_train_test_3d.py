"""3D integral regression end to end through the real tools on a tiny synthetic 3D set (slow, ~1 min): the
CocoKeypoint3DDataset -> IntegralRegressionLabel(3D) -> IntegralRegressionHead(depth_bins) -> RootRelativeMPJPE
path trains, checkpoints, reloads through the safe loader and evaluates; the first iterations lower the loss
(measured: the last four logged losses average 0.87 of the first four)."""
import json
import math
import re

import pytest

from conftest import REPO, run_tool

pytestmark = pytest.mark.slow

CONFIG = REPO / 'configs' / 'demo' / 'integral3d_tiny_synthetic.py'


@pytest.fixture(scope='module')
def tiny_coco3d(tmp_path_factory):
    from pose_plugins.synthetic import SyntheticCocoConfig, make_synthetic_coco
    root = tmp_path_factory.mktemp('synthetic_coco3d')
    make_synthetic_coco(str(root), num_train_images=24, num_val_images=4, seed=11,
                        config=SyntheticCocoConfig(with_3d=True))
    return root


def _options(root, *, max_epochs=2):
    r = f'{root}/'
    return [f'data_root={r}', f'train_dataloader.dataset.data_root={r}', f'val_dataloader.dataset.data_root={r}',
            f'test_dataloader.dataset.data_root={r}', 'train_dataloader.batch_size=8',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
            f'train_cfg.max_epochs={max_epochs}', f'train_cfg.val_interval={max_epochs}',
            'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
            'param_scheduler=[]', 'optim_wrapper.optimizer.lr=0.005']


def test_train_then_test_3d(tiny_coco3d, tmp_path):
    work_dir = tmp_path / 'work'
    out = run_tool(['tools/train.py', str(CONFIG), '--work-dir', str(work_dir),
                    '--cfg-options', *_options(tiny_coco3d, max_epochs=4)])
    assert out.returncode == 0, out.stderr[-4000:]
    (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
    losses = [json.loads(line)['loss'] for line in scalars.read_text().splitlines() if '"loss"' in line]
    assert len(losses) >= 8 and sum(losses[-4:]) / 4 < 0.92 * sum(losses[:4]) / 4, losses
    log = '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))
    assert re.search(r'pose3d/MPJPE: [0-9.]+', log), log[-2000:]

    metrics_file = tmp_path / 'metrics.json'
    out = run_tool(['tools/test.py', str(CONFIG), str(work_dir / 'epoch_4.pth'), '--work-dir', str(tmp_path / 't'),
                    '--out', str(metrics_file), '--cfg-options', *_options(tiny_coco3d)])
    assert out.returncode == 0, out.stderr[-4000:]
    metrics = json.loads(metrics_file.read_text())
    assert set(metrics) == {'pose3d/MPJPE', 'pose3d/PA-MPJPE', 'pose3d/MPJPE-xy', 'pose3d/MPJPE-z'}, metrics
    assert all(math.isfinite(v) and 0 < v < 2000 for v in metrics.values()), metrics
    assert metrics['pose3d/PA-MPJPE'] <= metrics['pose3d/MPJPE']
