"""Distributed runs agree with one process, and the launch scripts pass their arguments.

What holds, on CPU with gloo (2 processes vs 1, the same data, seed and global batch):

- **test**: the same checkpoint gives bit-identical predictions and so the identical metric. Each process runs
  the model on its share of the samples in eval mode (BatchNorm uses its running statistics, so a sample's output
  does not depend on the others in its batch; batch size 1 in both runs rules out batch-shape-dependent kernels),
  and CocoMetric runs once, on rank 0, over the gathered predictions.
- **train**: with 2 processes of batch 2 against 1 process of batch 4, DDP averages the two half-batch mean
  gradients, which is the full-batch mean gradient up to float32 summation order; the sampler gives the two
  processes the two halves of the single process's batches (rank r takes shuffled indices r, r + 2, ...).
  What differs is (1) BatchNorm in train mode normalizes with per-process statistics of 2 samples instead of 4
  (SyncBatchNorm would share them, but torch's SyncBatchNorm needs a GPU), and (2) random augmentation draws,
  which depend on how many samples each process draws. So the comparison freezes BatchNorm statistics
  (``norm_eval=True``; weights and biases still train) and uses the deterministic part of the train pipeline;
  then the weights agree to float32 rounding (tolerance below) and the val metric is the same.
"""
import json
import math
import os
import pickle
import re
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import DEMO_CONFIG, REPO, run_tool, tiny_run_options

SCRIPTS = ('dist_train.sh', 'dist_test.sh', 'dist_run.sh', 'slurm_train.sh', 'slurm_test.sh', 'slurm_run.sh')


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


# A stand-in interpreter: prints the variables a launcher sets and its arguments, one per line.
FAKE_PYTHON = '''#!/usr/bin/env bash
for v in RANK LOCAL_RANK WORLD_SIZE MASTER_ADDR MASTER_PORT; do echo "$v=${!v:-}"; done
printf 'arg=%s\\n' "$@"
'''


@pytest.mark.parametrize('script', SCRIPTS)
def test_launch_script_is_valid_bash_with_a_usage_line(script):
    assert subprocess.run(['bash', '-n', str(REPO / 'tools' / script)]).returncode == 0
    out = subprocess.run(['bash', str(REPO / 'tools' / script)], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith('usage:'), out.stderr


@pytest.mark.parametrize('script,args,tool', [
    ('dist_train.sh', ['cfg.py', '4'], ['tools/train.py', 'cfg.py', '--launcher', 'pytorch']),
    ('dist_test.sh', ['cfg.py', 'ckpt.pth', '4'], ['tools/test.py', 'cfg.py', 'ckpt.pth', '--launcher', 'pytorch']),
])
def test_dist_scripts_pass_torchrun_multi_node_arguments(script, args, tool, tmp_path):
    fake = _executable(tmp_path / 'python', FAKE_PYTHON)
    out = subprocess.run(['bash', str(REPO / 'tools' / script), *args, '--cfg-options', 'a=b c'], text=True,
                         capture_output=True, env=dict(os.environ, PYTHON=str(fake), NNODES='2', NODE_RANK='1',
                                                       MASTER_ADDR='10.1.1.1', PORT='29999'))
    assert out.returncode == 0, out.stderr
    argv = [line[4:] for line in out.stdout.splitlines() if line.startswith('arg=')]
    assert argv[:7] == ['-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1', '--master_addr=10.1.1.1',
                        '--nproc_per_node=4', '--master_port=29999']
    assert argv[7] == str(REPO / tool[0]) and argv[8:] == tool[1:] + ['--cfg-options', 'a=b c']


# A stand-in srun: prints its options, then runs the task command once per task with Slurm's variables.
FAKE_SRUN = '''#!/usr/bin/env bash
ntasks=1
while [ "$1" != bash ]; do echo "srun=$1"; case $1 in --ntasks=*) ntasks=${1#--ntasks=};; esac; shift; done
for ((i = 0; i < ntasks; i++)); do
    SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks SLURM_JOB_NODELIST='node[7-8]' "$@"
done
'''
FAKE_SCONTROL = '''#!/usr/bin/env bash
[ "$*" = 'show hostnames node[7-8]' ] && printf 'node7\\nnode8\\n'
'''


@pytest.mark.parametrize('script,args,tool', [
    ('slurm_train.sh', ['part', 'job', 'cfg.py', 'wd'], ['tools/train.py', 'cfg.py', '--work-dir=wd']),
    ('slurm_test.sh', ['part', 'job', 'cfg.py', 'ckpt.pth'], ['tools/test.py', 'cfg.py', 'ckpt.pth']),
])
def test_slurm_scripts_pass_arguments_and_slurm_ranks(script, args, tool, tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    _executable(bin_dir / 'srun', FAKE_SRUN)
    _executable(bin_dir / 'scontrol', FAKE_SCONTROL)
    fake = _executable(tmp_path / 'python', FAKE_PYTHON)
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}', PYTHON=str(fake), GPUS='2', GPUS_PER_NODE='1',
               SRUN_ARGS='--quotatype=auto -x node3', PORT='29777')
    env.pop('MASTER_ADDR', None)
    out = subprocess.run(['bash', str(REPO / 'tools' / script), *args, '--cfg-options', 'a=b c'], text=True,
                         capture_output=True, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    srun = [line[5:] for line in lines if line.startswith('srun=')]
    assert srun == ['-p', 'part', '--job-name=job', '--ntasks=2', '--cpus-per-task=5', '--kill-on-bad-exit=1',
                    '--gres=gpu:1', '--ntasks-per-node=1', '--quotatype=auto', '-x', 'node3']
    tasks = re.split(r'^RANK=', out.stdout, flags=re.M)[1:]
    assert len(tasks) == 2
    for rank, task in enumerate(tasks):
        assert task.startswith(f'{rank}\n')
        assert f'LOCAL_RANK={rank}\nWORLD_SIZE=2\nMASTER_ADDR=node7\nMASTER_PORT=29777' in task
        argv = re.findall(r'^arg=(.*)$', task, re.M)
        assert argv == ['-u', str(REPO / tool[0]), *tool[1:], '--cfg-options', 'a=b c', '--launcher', 'pytorch']


# ------------------------------------------------------------------------------------------------------------------
# agreement of real runs (slow: 4 tool runs, about a minute on 2 quiet cores)
# ------------------------------------------------------------------------------------------------------------------
# Float32 weights after 5 SGD steps from the same start: the two runs differ only in the summation order of the
# gradient (one sum over 4 samples vs two sums over 2, averaged by the all-reduce); measured max |difference| over
# all parameters 1.5e-8 (an in-process check of one step: 3e-8 on gradients of up to 0.2). 1e-6 leaves ~2 orders
# of margin and is far below what one step changes (lr 0.01 x gradients of 1e-3 .. 0.2).
WEIGHT_ATOL = 1e-6

DETERMINISTIC_CONFIG = f'''_base_ = ['{DEMO_CONFIG}']
# the demo recipe without random augmentation, BatchNorm statistics frozen, plain SGD (see the module docstring)
model = dict(backbone=dict(norm_eval=True))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
    dict(type='GenerateTarget', encoder=_base_.codec),
    dict(type='PackPoseInputs'),
]))
optim_wrapper = dict(optimizer=dict(_delete_=True, type='SGD', lr=0.01, momentum=0.9))
param_scheduler = []
'''


def _options(root: Path, batch_size: int) -> list:
    """The tiny run (1 epoch) on 20 of the tiny set's 23 training samples (a multiple of the global batch of 4:
    with 23, DefaultSampler pads the 2-process run's shares to 12 + 12 by repeating a sample, and the 1-process
    run ends with a batch of 3), a fixed sampler seed, and batch size 1 for val/test."""
    return [*tiny_run_options(root, max_epochs=1), f'train_dataloader.batch_size={batch_size}',
            'train_dataloader.dataset.indices=20', 'train_dataloader.sampler.seed=0',
            'val_dataloader.batch_size=1', 'test_dataloader.batch_size=1']


def _state(checkpoint: Path) -> dict:
    from pose_plugins.compat import load_checkpoint_safely
    return load_checkpoint_safely(str(checkpoint), map_location='cpu')['state_dict']


def _val_metrics(work_dir: Path) -> dict:
    log = '\n'.join(p.read_text() for p in sorted(work_dir.glob('*/*.log')))
    line = re.findall(r'Epoch\(val\) \[1\]\[\d+/\d+\]\s+(.*)', log)[-1]
    return {k: float(v) for k, v in re.findall(r'(coco/[\w.]+): ([-0-9.]+)', line)}


@pytest.fixture(scope='module')
def runs(tiny_coco, tmp_path_factory):
    """1-process (batch 4) and 2-process gloo (batch 2 each) training of the same config on the same data."""
    tmp = tmp_path_factory.mktemp('dist')
    config = tmp / 'deterministic.py'
    config.write_text(DETERMINISTIC_CONFIG)
    single, double = tmp / 'single', tmp / 'double'
    out = run_tool(['tools/train.py', str(config), '--work-dir', str(single), '--cfg-options',
                    *_options(tiny_coco, 4)])
    assert out.returncode == 0, out.stderr[-4000:]
    out = run_tool(['tools/dist_train.sh', str(config), '2', '--work-dir', str(double), '--cfg-options',
                    *_options(tiny_coco, 2)], env_extra={'PORT': _free_port()})
    _succeeded(out)
    return config, single, double


def _succeeded(out) -> None:
    """Fail with the run's output in full view (an assertion message would be shortened)."""
    if out.returncode != 0:
        pytest.fail(f'exit {out.returncode}\n--- stdout (end) ---\n{out.stdout[-3000:]}\n--- stderr (end) ---\n'
                    f'{out.stderr[-8000:]}', pytrace=False)


@pytest.mark.slow
def test_two_process_training_matches_one_process(runs):
    config, single, double = runs
    log = '\n'.join(p.read_text() for p in double.glob('*/*.log'))
    assert re.search(r'Distributed training: True', log) and re.search(r'world_size: 2|GPU number: 2', log)
    one, two = _state(single / 'epoch_1.pth'), _state(double / 'epoch_1.pth')
    assert one.keys() == two.keys()
    moved = max((one[k].float() - two[k].float()).abs().max().item() for k in one if one[k].is_floating_point())
    assert moved <= WEIGHT_ATOL, moved
    metrics_one, metrics_two = _val_metrics(single), _val_metrics(double)
    assert metrics_one.keys() == metrics_two.keys() and 'coco/AP' in metrics_one
    for key, value in metrics_one.items():  # the weights agree to 1e-6: the keypoints to far below a pixel
        assert math.isclose(value, metrics_two[key], abs_tol=1e-3), (key, metrics_one, metrics_two)


@pytest.mark.slow
def test_two_process_test_gives_identical_predictions_and_metric(runs, tiny_coco, tmp_path):
    config, single, _ = runs
    checkpoint = single / 'epoch_1.pth'
    results = {}
    for name, launch in (('one', ['tools/test.py', str(config), str(checkpoint)]),
                         ('two', ['tools/dist_test.sh', str(config), str(checkpoint), '2'])):
        out = run_tool([*launch, '--work-dir', str(tmp_path / name), '--out', str(tmp_path / f'{name}.json'),
                        '--dump', str(tmp_path / f'{name}.pkl'), '--cfg-options', *_options(tiny_coco, 4)],
                       env_extra={'PORT': _free_port()})
        _succeeded(out)
        metrics = json.loads((tmp_path / f'{name}.json').read_text())
        with open(tmp_path / f'{name}.pkl', 'rb') as f:
            predictions = {int(p['id']): p['pred_instances']['keypoints'].tolist() for p in pickle.load(f)}
        results[name] = metrics, predictions
    (metrics_one, predictions_one), (metrics_two, predictions_two) = results['one'], results['two']
    assert predictions_one == predictions_two and len(predictions_one) > 0  # bit-identical, every sample once
    assert metrics_one == metrics_two and 'coco/AP' in metrics_one
