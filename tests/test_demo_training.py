"""The README's demo, run in full (slow, ~8 min on 2 cores): synthetic val AP >= 0.60 and the loss falls."""
import json

import pytest

from conftest import run_tool

pytestmark = pytest.mark.slow


def test_demo_reaches_readme_ap(tmp_path):
    work_dir = tmp_path / 'demo'
    out = run_tool(['tools/demo.py', '--data-root', str(tmp_path / 'synthetic_coco'), '--work-dir', str(work_dir)],
                   timeout=3600, env_extra={'OMP_NUM_THREADS': '2'})
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads((work_dir / 'demo_result.json').read_text())
    assert result['metrics']['coco/AP'] >= 0.60, result
    (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
    losses = [json.loads(line)['loss'] for line in scalars.read_text().splitlines() if '"loss"' in line]
    assert len(losses) >= 10 and sum(losses[-5:]) / 5 < 0.5 * losses[0], losses
    assert (work_dir / 'inference' / 'visualizations').is_dir()
    print(f"demo: AP {result['metrics']['coco/AP']:.3f}, {result['seconds']['total']:.0f} s")
