"""Every tool's refusals, through the real scripts in fresh interpreters: one line on stderr in argparse's form
(``PROG: error: MESSAGE``) and a non-zero exit status, no traceback (``--debug`` shows it); and known third-party
warnings stay off a working tool's terminal. The refusals run one after another in one interpreter (each fresh one
imports mmpose: ~5 s of CPU), two of them in fresh interpreters too; the processes run concurrently."""
import os
import subprocess
import sys
import time

import pytest
import torch

from conftest import DEMO_CONFIG, REPO, foreign_stderr_lines

SB_CONFIG = REPO / 'configs' / 'demo' / 'simplebaseline_tiny_synthetic.py'

# name: (tool, arguments with {tmp}, the exit status, a regex the message must match)
REFUSALS = {
    'train: missing config': ('train.py', [], 2, r'the following arguments are required: config'),
    'train: config that does not exist': ('train.py', ['{tmp}/nope.py'], 2, r'config file \S*nope\.py does not exist'),
    'train: work dir holding checkpoints': ('train.py', [str(DEMO_CONFIG), '--work-dir', '{tmp}/full'], 2,
                                            r'already holds checkpoints \(epoch_1\.pth\).*--resume'),
    'train: --resume of a truncated last checkpoint': (
        'train.py', [str(DEMO_CONFIG), '--work-dir', '{tmp}/broken', '--resume'], 2,
        r'cannot resume from \S*broken/epoch_4\.pth \(named by \S*last_checkpoint\): checkpoint \S*epoch_4\.pth cannot '
        r'be read: it is truncated.* Resume from epoch_3\.pth instead \(--resume \S*epoch_3\.pth\), or pass --resume '
        r'PATH\.$'),
    'train: work dir locked by another run': ('train.py', [str(DEMO_CONFIG), '--work-dir', '{tmp}/locked'], 2,
                                              r'work dir \S*locked is in use by another training run \(PID {holder} '
                                              r'on \S+, started \S+\)'),
    'test: --out that exists': ('test.py', [str(DEMO_CONFIG), '{tmp}/model.pth', '--out', '{tmp}/taken.json'], 2,
                                r'--out \S*taken\.json already exists'),
    'infer: inverted box': ('infer.py', [str(SB_CONFIG), '{tmp}/model.pth', '{tmp}/img.jpg', '--out-dir', '{tmp}/o',
                                         '--bboxes', '[[50, 50, 10, 10]]'], 2, r'x2 > x1'),
    'infer: video that does not open': ('infer.py', [str(SB_CONFIG), '{tmp}/model.pth', '{tmp}/broken.mp4',
                                                     '--out-dir', '{tmp}/o'], 2, r'cannot open video \S*broken\.mp4'),
    'infer: camera that does not exist': ('infer.py', [str(SB_CONFIG), '{tmp}/model.pth', '57', '--out-dir',
                                                       '{tmp}/o'], 2, r'camera 57 does not exist'),
    'infer: video output that exists': ('infer.py', [str(SB_CONFIG), '{tmp}/model.pth', '{tmp}/broken.mp4',
                                                     '--video-out', '{tmp}/taken.json'], 2, r'taken\.json exists'),
    'make_synthetic_clip: output that exists': ('make_synthetic_clip.py', ['{tmp}/taken.mp4'], 2,
                                                r'taken\.mp4'),
    'eval_video: ground truth that does not exist': ('eval_video.py', ['{tmp}/gone.json', '{tmp}/p.jsonl'], 2,
                                                     r'gone\.json'),
    'export_onnx: output that exists': ('export_onnx.py', [str(SB_CONFIG), '{tmp}/model.pth', '--out',
                                                           '{tmp}/taken.json'], 2, r'taken\.json exists.*--overwrite'),
    'convert_checkpoint: unreadable source': ('convert_checkpoint.py', ['{tmp}/text.pth', '{tmp}/c.pth', '--layout',
                                                                        'pose_hrnet'], 1, r'text\.pth: cannot be'),
    'publish_model: input that does not exist': ('publish_model.py', ['{tmp}/gone.pth', '{tmp}/pub'], 2,
                                                 r'gone\.pth does not exist'),
    'convert_smpl_model: output that exists': ('convert_smpl_model.py', ['{tmp}/in.pkl', '{tmp}/taken.npz'], 2,
                                               r'taken\.npz exists'),
    'make_synthetic_coco: missing --out-dir': ('make_synthetic_coco.py', [], 2, r'--out-dir'),
    'demo: work dir not empty': ('demo.py', ['--work-dir', '{tmp}/full'], 2, r'work dir \S*full is not empty'),
    'benchmark: unknown section': ('benchmark.py', ['--only', 'nothing'], 2, r'unknown sections'),
    'model_complexity: config that does not exist': ('model_complexity.py', ['{tmp}/nope.py'], 2, r'nope\.py'),
    'gpu_benchmark: --out that exists': ('gpu_benchmark.py', ['--out', '{tmp}/taken.json'], 2, r'taken\.json exists'),
    'train --debug: the traceback': ('train.py', ['{tmp}/nope.py', '--debug'], 1, None),
}


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=f'{REPO}{os.pathsep}{os.environ.get("PYTHONPATH", "")}', OMP_NUM_THREADS='1')


# Runs tools/X.py as ``python tools/X.py ARGS`` would, once per case, in one interpreter (the import of mmpose is
# paid once): sys.argv set, the script run as __main__, its exit status and stderr recorded.
DRIVER = """
import contextlib, io, json, runpy, sys, traceback
cases, results = json.loads(sys.argv[1]), {}
for name, argv in cases.items():
    sys.argv, err = list(argv), io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            runpy.run_path(argv[0], run_name='__main__')
            code = 0
        except SystemExit as exit:  # what the interpreter does with it at the end of a script
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)
            if exit.code is not None and not isinstance(exit.code, int):
                print(exit.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
    results[name] = (code, err.getvalue())
with open(OUT, 'w') as f:
    json.dump(results, f)
"""
# these run in a fresh interpreter of their own too (the real thing; nothing depends on the shared one)
FRESH = ('train: config that does not exist', 'train --debug: the traceback')


@pytest.fixture(scope='module')
def refusals(tmp_path_factory):
    """Every case of REFUSALS; name -> (exit status, stderr), and the lock holder's PID."""
    import json
    tmp = tmp_path_factory.mktemp('refusals')
    (tmp / 'full').mkdir()
    (tmp / 'full' / 'epoch_1.pth').write_bytes(b'precious')
    broken = tmp / 'broken'
    broken.mkdir()
    torch.save(dict(state_dict={}, meta=dict(epoch=3)), broken / 'epoch_3.pth')
    torch.save(dict(state_dict={'w': torch.zeros(1000)}, meta=dict(epoch=4)), broken / 'epoch_4.pth')
    whole = (broken / 'epoch_4.pth').read_bytes()
    (broken / 'epoch_4.pth').write_bytes(whole[:len(whole) // 2])  # a save cut short by another tool than ours
    (broken / 'last_checkpoint').write_text(str(broken / 'epoch_4.pth'))
    torch.save(dict(state_dict={}), tmp / 'model.pth')
    (tmp / 'taken.json').write_text('{}')
    (tmp / 'taken.npz').write_bytes(b'x')
    (tmp / 'taken.mp4').write_bytes(b'x')
    (tmp / 'broken.mp4').write_text('not a video')
    (tmp / 'in.pkl').write_bytes(b'x')
    (tmp / 'text.pth').write_text('not a checkpoint')
    import cv2
    import numpy as np
    cv2.imwrite(str(tmp / 'img.jpg'), np.full((64, 48, 3), 127, np.uint8))
    argv = {name: [f'tools/{tool}', *[a.format(tmp=tmp) for a in args]]
            for name, (tool, args, _, _) in REFUSALS.items()}
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import sys, time; from pose_plugins.cli import lock_work_dir; '
         'lock_work_dir(sys.argv[1]); print("locked", flush=True); time.sleep(300)', str(tmp / 'locked')],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        out = tmp / 'results.json'
        driver = subprocess.Popen([sys.executable, '-c', DRIVER.replace('OUT', repr(str(out))), json.dumps(argv)],
                                  cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        fresh = {name: subprocess.Popen([sys.executable, *argv[name]], cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True) for name in FRESH}
        fresh = {name: (proc.wait(timeout=240), proc.communicate()[1]) for name, proc in fresh.items()}
        assert driver.wait(timeout=240) == 0, driver.stderr.read()[-3000:]
    finally:
        holder.kill()
        holder.wait()
    results = {name: tuple(result) for name, result in json.loads(out.read_text()).items()}
    assert not (tmp / 'full' / 'epoch_2.pth').exists() and (tmp / 'full' / 'epoch_1.pth').read_bytes() == b'precious'
    return results, fresh, holder.pid


@pytest.mark.parametrize('name', [n for n in REFUSALS if '--debug' not in n])
def test_a_refusal_is_one_line_in_argparse_form(name, refusals):
    import re
    results, fresh, holder = refusals
    tool, _, status, pattern = REFUSALS[name]
    for returncode, err in [results[name], *([fresh[name]] if name in fresh else [])]:
        _check_one_line(tool, status, pattern.replace('{holder}', str(holder)), returncode, err)


def _check_one_line(tool, status, pattern, returncode, err):
    import re
    assert returncode == status, err[-3000:]
    assert err.endswith('\n') and err.count('\n') == 1, err[-3000:]
    assert err.startswith(f'{tool}: error: '), err
    assert re.search(pattern, err), err


def test_debug_shows_the_traceback(refusals):
    results, fresh, _ = refusals
    for returncode, err in (results['train --debug: the traceback'], fresh['train --debug: the traceback']):
        assert returncode == 1 and 'Traceback (most recent call last)' in err
        assert err.rstrip().endswith('nope.py does not exist'), err[-2000:]


@pytest.fixture(scope='module')
def quiet_runs(tmp_path_factory):
    """tools/export_onnx.py and tools/infer.py on the SimpleBaseline demo config with random weights, at once."""
    tmp = tmp_path_factory.mktemp('quiet')
    from mmpose.apis import init_model
    torch.save(dict(state_dict=init_model(str(SB_CONFIG), None, device='cpu').state_dict()), tmp / 'sb.pth')
    import cv2
    import numpy as np
    cv2.imwrite(str(tmp / 'img.jpg'), np.random.default_rng(0).integers(0, 255, (128, 96, 3), dtype=np.uint8))
    runs = {'export_onnx': ['tools/export_onnx.py', str(SB_CONFIG), str(tmp / 'sb.pth'), '--out', str(tmp / 'sb.onnx')],
            'infer': ['tools/infer.py', str(SB_CONFIG), str(tmp / 'sb.pth'), str(tmp / 'img.jpg'), '--out-dir',
                      str(tmp / 'out'), '--bboxes', '[[10, 10, 80, 120]]']}
    procs = {k: subprocess.Popen([sys.executable, *v], cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for k, v in runs.items()}
    return {k: (p.wait(timeout=240), p.stdout.read(), p.stderr.read()) for k, p in procs.items()}


@pytest.mark.parametrize('tool', ['export_onnx', 'infer'])
def test_a_working_tool_prints_no_third_party_warnings(tool, quiet_runs):
    returncode, out, err = quiet_runs[tool]
    assert returncode == 0, err[-3000:]
    assert 'wrote' in out or 'person(s)' in out
    assert foreign_stderr_lines(err) == [], err[-3000:]
