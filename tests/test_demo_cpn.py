"""The CPN demo (configs/demo/cpn_tiny_synthetic.py) trained in full through tools/demo.py (slow, ~4 min on
2 cores): the loss falls and synthetic-val AP (measured 0.68) ends far above an untrained model's (0.000)."""
import json

import pytest

from conftest import run_tool

pytestmark = pytest.mark.slow


def test_cpn_demo_learns(tmp_path):
    work_dir = tmp_path / 'cpn_demo'
    out = run_tool(['tools/demo.py', '--config', 'configs/demo/cpn_tiny_synthetic.py',
                    '--data-root', str(tmp_path / 'synthetic_coco'), '--work-dir', str(work_dir)],
                   timeout=3600, env_extra={'OMP_NUM_THREADS': '2'})
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads((work_dir / 'demo_result.json').read_text())
    assert result['metrics']['coco/AP'] >= 0.40, result
    (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
    logs = [json.loads(line) for line in scalars.read_text().splitlines() if '"loss"' in line]
    losses = [log['loss'] for log in logs]
    # measured: last five logged losses average 0.60 of the first (GlobalNet's term 0.75, RefineNet's 0.57); the
    # heatmap MSE of sparse targets cannot fall as far as a dense loss
    assert len(losses) >= 10 and sum(losses[-5:]) / 5 < 0.7 * losses[0], losses
    for term in ('mse_global', 'ohkm_refine'):  # both stages learn
        values = [log[term] for log in logs]
        assert sum(values[-5:]) / 5 < 0.85 * values[0], (term, values)
    print(f"cpn demo: AP {result['metrics']['coco/AP']:.3f}, {result['seconds']['total']:.0f} s")
