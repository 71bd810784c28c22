"""``tools/gpu_benchmark.py --profile`` summaries (:mod:`pose_plugins.apis.profile_summary`): a tiny conv net's
training steps profiled on CPU give per-step counts (the same for 3 and 6 steps), ``.item()`` reads counted, a sorted
top list; a hand-made CUDA event list (no GPU needed) gives hand-computed launches, syncs, copies and busy time."""
import json
from types import SimpleNamespace
from typing import Callable

import pytest
import torch
from torch import nn
from torch.autograd import DeviceType

from pose_plugins.apis.profile_summary import (profile_steps, summarise_events, summarise_profile,
                                               summary_markdown)

COUNTERS = ('kernel_launches', 'graph_launches', 'host_syncs', 'device_to_host_copies', 'item_reads', 'cpu_ops')


def _train_step(item_reads: int) -> Callable[[], None]:
    """One SGD step of a two-conv net on a (2, 3, 8, 8) batch, reading the loss back ``item_reads`` times; one
    warm-up step already taken, so every profiled step runs the same ops."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(2, 3, 8, 8)

    def step() -> None:
        opt.zero_grad()
        loss = net(x).square().mean()
        loss.backward()
        opt.step()
        for _ in range(item_reads):
            loss.item()
    step()
    return step


def _cpu_summary(item_reads: int, steps: int, top_k: int = 15) -> dict:
    return summarise_profile(profile_steps(_train_step(item_reads), steps=steps, device='cpu'), top_k=top_k)


def test_cpu_counts_are_per_step():
    three, six = _cpu_summary(2, 3), _cpu_summary(2, 6)
    assert three['steps'] == 3 and six['steps'] == 6
    assert {k: three[k] for k in COUNTERS} == {k: six[k] for k in COUNTERS}
    # per step: 2 convs forward -> at least conv2d/convolution/_convolution each twice, plus backward and SGD ops
    assert three['cpu_ops'] >= 6 and three['cpu_ops'].is_integer()
    assert three['device_busy_ms'] is None and three['top_by'] == 'self CPU time'
    assert three['kernel_launches'] == three['host_syncs'] == three['device_to_host_copies'] == 0
    assert three['host_ms'] > 0


@pytest.mark.parametrize('reads', [pytest.param(0, id='no-item'), pytest.param(2, id='two-items')])
def test_item_reads_count_each_read_back(reads):
    assert _cpu_summary(reads, 3)['item_reads'] == reads


def test_cpu_top_is_sorted_within_k_and_json_serialisable():
    summary = _cpu_summary(1, 3, top_k=5)
    top = summary['top']
    assert len(top) == 5  # the step runs more than 5 distinct ops
    times = [entry['ms_per_step'] for entry in top]
    assert times == sorted(times, reverse=True)
    assert all(entry['name'] != 'train_step' for entry in top)  # the step annotation is not an op
    assert all(0 <= entry['percent'] <= 100 for entry in top)
    assert sum(entry['percent'] for entry in top) <= 100 + 1e-9  # shares of one total; float sum rounding
    assert json.loads(json.dumps(summary)) == summary
    assert len(summarise_profile(profile_steps(_train_step(0), steps=1, device='cpu'), top_k=2)['top']) == 2


def test_steps_must_be_positive():
    with pytest.raises(ValueError, match=r'steps must be >= 1, got 0'):
        profile_steps(lambda: None, steps=0, device='cpu')
    with pytest.raises(ValueError, match=r'steps must be >= 1, got 0'):
        summarise_events([], steps=0, wall_s=1.0, device='cpu')


# ---- the CUDA branch on a hand-made event list ------------------------------------------------------------------

def _event(name: str, activity: str, start: float, end: float, *, device: bool = False,
           device_time_attr: str = 'self_device_time_total') -> SimpleNamespace:
    """A stand-in for a profiler ``FunctionEvent`` with the fields the summary reads (times in µs)."""
    event = SimpleNamespace(name=name, activity_type=activity, time_range=SimpleNamespace(start=start, end=end),
                            device_type=DeviceType.CUDA if device else DeviceType.CPU,
                            is_user_annotation=activity in ('user_annotation', 'gpu_user_annotation'),
                            self_cpu_time_total=0.0 if device else end - start)
    if device:
        setattr(event, device_time_attr, end - start)
    return event


def _cuda_step(t0: float) -> list:
    """One step's events starting at ``t0`` µs: 5 launches (1 a graph launch), 2 syncs, 1 item read, 3 aten ops;
    device work 200 + 100 (overlapping by 50 on another stream) + 10 + 40 + 20 µs, union 320 µs."""
    cpu = [('train_step', 'user_annotation', 0, 900), ('aten::mm', 'cpu_op', 10, 60),
           ('aten::add_', 'cpu_op', 60, 80), ('aten::_local_scalar_dense', 'cpu_op', 490, 700),
           ('cudaLaunchKernel', 'cuda_runtime', 20, 25), ('cudaLaunchKernel', 'cuda_runtime', 65, 70),
           ('cudaLaunchKernelExC_v11060', 'cuda_runtime', 30, 35), ('cuLaunchKernel', 'cuda_driver', 40, 45),
           ('cudaGraphLaunch_v10000', 'cuda_runtime', 50, 55), ('cudaMemcpyAsync', 'cuda_runtime', 495, 500),
           ('cudaStreamSynchronize', 'cuda_runtime', 500, 690), ('cudaEventSynchronize', 'cuda_runtime', 800, 810)]
    device = [('train_step', 'gpu_user_annotation', 0, 900), ('gemm_kernel', 'kernel', 100, 300),
              ('Memset (Device)', 'gpu_memset', 400, 410), ('Memcpy DtoH (Device -> Pageable)', 'gpu_memcpy', 500, 540),
              ('Memcpy HtoD (Pageable -> Device)', 'gpu_memcpy', 600, 620), ('Stream Sync', 'cuda_sync', 540, 700)]
    events = [_event(n, a, t0 + s, t0 + e) for n, a, s, e in cpu]
    events += [_event(n, a, t0 + s, t0 + e, device=True) for n, a, s, e in device]
    # the name older torch gives the self device time
    events.append(_event('add_kernel', 'kernel', t0 + 250, t0 + 350, device=True,
                         device_time_attr='self_cuda_time_total'))
    return events


@pytest.fixture
def cuda_summary() -> dict:
    return summarise_events(_cuda_step(0) + _cuda_step(1000), steps=2, wall_s=2e-3, device='cuda:0', top_k=3)


def test_cuda_counts_from_hand_made_events(cuda_summary):
    s = cuda_summary
    assert {k: s[k] for k in COUNTERS} == dict(kernel_launches=5, graph_launches=1, host_syncs=2,
                                               device_to_host_copies=1, item_reads=1, cpu_ops=3)
    assert s['host_ms'] == pytest.approx(1.0)  # 2 ms / 2 steps
    # union of [100, 350], [400, 410], [500, 540], [600, 620]: the annotation and the sync record are not work
    assert s['device_busy_ms'] == pytest.approx(0.32)
    assert s['top_by'] == 'self device time'
    assert [(e['name'], e['calls_per_step'], e['ms_per_step']) for e in s['top']] == [
        ('gemm_kernel', 1, pytest.approx(0.2)), ('add_kernel', 1, pytest.approx(0.1)),
        ('Memcpy DtoH (Device -> Pageable)', 1, pytest.approx(0.04))]
    assert s['top'][0]['percent'] == pytest.approx(100 * 200 / 370)  # of all device work, 370 µs a step
    assert json.loads(json.dumps(s)) == s


def test_device_events_without_activity_type_count_unless_annotations():
    kernel, annotation = _event('k', 'kernel', 0, 30, device=True), _event('a', 'gpu_user_annotation', 0, 90,
                                                                          device=True)
    for event in (kernel, annotation):
        del event.activity_type
    s = summarise_events([kernel, annotation], steps=1, wall_s=1e-3, device='cuda')
    assert s['device_busy_ms'] == pytest.approx(0.03) and [e['name'] for e in s['top']] == ['k']


def test_markdown_rows_and_top_tables(cuda_summary):
    cpu = _cpu_summary(2, 3, top_k=4)
    md = summary_markdown({'ours fp32 (cpu)': cpu, 'ours bf16 + channels_last': cuda_summary})
    lines = md.splitlines()
    # host 1.00, busy 0.32, idle 1 - 0.32 / 1.00 = 68.0 %, launches 5, syncs 2, item reads 1, D2H 1
    assert '| ours bf16 + channels_last | 1.00 | 0.32 | 68.0 | 5 | 2 | 1 | 1 |' in lines
    assert f"| ours fp32 (cpu) | {cpu['host_ms']:.2f} | - | - | 0 | 0 | 2 | 0 |" in lines
    assert '**ours fp32 (cpu)**: top 4 by self CPU time' in lines
    assert '**ours bf16 + channels_last**: top 3 by self device time' in lines
    assert f"| gemm_kernel | 1 | 0.20 | {100 * 200 / 370:.1f} |" in lines
    for entry in cpu['top']:
        assert any(line.startswith(f"| {entry['name']} | ") for line in lines), entry['name']
