"""``tools/gpu_benchmark.py --profile``: run training steps under :class:`torch.profiler.profile` and condense the
events into per-step counts a recipe comparison needs (host time, device busy time, kernel launches, host syncs,
device-to-host copies, ``.item()`` reads, aten ops) plus the top-k kernels (CUDA) or ops (CPU), as JSON-serialisable
dicts and a Markdown table.

Event fields read (``torch.autograd.profiler_util.FunctionEvent``): ``name``, ``device_type``, ``activity_type``
(kineto's ``'kernel'``, ``'gpu_memcpy'``, ``'gpu_memset'``, ...), ``is_user_annotation``, ``time_range`` (µs) and
``self_device_time_total`` (``self_cuda_time_total`` where torch names it so) / ``self_cpu_time_total`` (µs).
"""
from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, record_function

__all__ = ['ProfiledSteps', 'profile_steps', 'summarise_events', 'summarise_profile', 'summary_markdown']

STEP_LABEL = 'train_step'  # record_function label around each profiled step

# host-side CUDA runtime / driver calls, by name without the _ptsz/_ptds and _vNNNN suffixes CUPTI may add
GRAPH_LAUNCHES = frozenset({'cudaGraphLaunch', 'cuGraphLaunch'})
KERNEL_LAUNCHES = frozenset({'cudaLaunchKernel', 'cudaLaunchKernelExC', 'cuLaunchKernel', 'cuLaunchKernelEx',
                             'cudaLaunchCooperativeKernel', 'cuLaunchCooperativeKernel'}) | GRAPH_LAUNCHES
HOST_SYNCS = frozenset({'cudaStreamSynchronize', 'cudaDeviceSynchronize', 'cudaEventSynchronize',
                        'cuStreamSynchronize', 'cuCtxSynchronize', 'cuEventSynchronize'})
ITEM_READ = 'aten::_local_scalar_dense'  # Tensor.item() / float(tensor): a value read back to Python
# device-side activities that occupy the device (not annotations, syncs or overhead records)
DEVICE_WORK = frozenset({'kernel', 'gpu_memcpy', 'gpu_memset'})
_API_SUFFIX = re.compile(r'(_ptsz|_ptds)?(_v\d+)?$')


@dataclass(frozen=True)
class ProfiledSteps:
    """A finished profile of ``steps`` calls of a step function on ``device``; ``wall_s`` is the wall time of the
    whole loop (seconds, device synchronised at its end, profiler start/stop and event parsing excluded)."""
    profile: torch.profiler.profile
    steps: int
    wall_s: float
    device: str


def _on_cuda(device: str) -> bool:
    return device.startswith('cuda')


def profile_steps(step: Callable[[], Any], *, steps: int, device: str) -> ProfiledSteps:
    """Call ``step()`` ``steps`` times under :class:`torch.profiler.profile` (CPU activity, + CUDA when ``device``
    starts with ``'cuda'``), each call inside ``record_function('train_step')``; CUDA is synchronised before the
    clock stops and the profiler exits. Warm-up steps (allocator, cuDNN autotuning, compilation) are the caller's, run
    before this."""
    if steps < 1:
        raise ValueError(f'steps must be >= 1, got {steps}')
    on_cuda = _on_cuda(device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with torch.profiler.profile(activities=activities) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            with record_function(STEP_LABEL):
                step()
        if on_cuda:
            torch.cuda.synchronize(device)
        wall_s = time.perf_counter() - start
    return ProfiledSteps(profile=prof, steps=steps, wall_s=wall_s, device=device)


def summarise_profile(run: ProfiledSteps, *, top_k: int = 15) -> dict:
    """:func:`summarise_events` of ``run``'s events."""
    return summarise_events(run.profile.events(), steps=run.steps, wall_s=run.wall_s, device=run.device, top_k=top_k)


def _api_name(name: str) -> str:
    """A CUDA runtime / driver call's name without CUPTI's per-thread-stream and API-version suffixes."""
    return _API_SUFFIX.sub('', name)


def _self_device_us(event: Any) -> float:
    """Self device time (µs) of an event, under the attribute name this torch has."""
    for attr in ('self_device_time_total', 'self_cuda_time_total'):
        value = getattr(event, attr, None)
        if value is not None:
            return float(value)
    return float(event.time_range.end - event.time_range.start)


def _is_device_work(event: Any) -> bool:
    """A kernel, memcpy or memset on the device; by ``activity_type`` where the event has one, else any device-side
    event that is not an annotation."""
    if event.device_type == DeviceType.CPU:
        return False
    activity = getattr(event, 'activity_type', None)
    if activity is not None:
        return activity in DEVICE_WORK
    return not getattr(event, 'is_user_annotation', False)


def _union_us(intervals: Iterable[tuple[float, float]]) -> float:
    """Length (µs) of the union of ``(start, end)`` intervals: overlapping streams are counted once."""
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


def _top(totals: Mapping[str, list], *, steps: int, top_k: int) -> list[dict]:
    """``top_k`` entries of ``name -> [calls, µs]`` by µs (ties by name), per step, with their share of the sum."""
    grand = sum(us for _, us in totals.values())
    ranked = sorted(totals.items(), key=lambda item: (-item[1][1], item[0]))[:top_k]
    return [dict(name=name, calls_per_step=calls / steps, ms_per_step=us / 1e3 / steps,
                 percent=100.0 * us / grand if grand > 0 else 0.0) for name, (calls, us) in ranked]


def summarise_events(events: Iterable[Any], *, steps: int, wall_s: float, device: str, top_k: int = 15) -> dict:
    """Per-step summary of the profiler ``events`` of ``steps`` steps that took ``wall_s`` seconds on ``device``.

    Returns a JSON-serialisable dict: ``steps``, ``device``, ``host_ms`` (wall ms per step); per step
    ``device_busy_ms`` (ms in which at least one kernel, memcpy or memset runs: the union of their intervals; None off
    CUDA), ``kernel_launches`` (host launch calls, graph launches included), ``graph_launches``, ``host_syncs``
    (explicit stream / device / event synchronisations), ``device_to_host_copies`` (device-side DtoH memcpys),
    ``item_reads`` (``aten::_local_scalar_dense``: each a sync on CUDA), ``cpu_ops`` (``aten::`` op events, nested
    ones included); ``top_by`` and ``top``: up to ``top_k`` dicts ``name, calls_per_step, ms_per_step, percent``
    by self device time of device work on CUDA, else by self CPU time of CPU ops, ``percent`` of that total.
    """
    if steps < 1:
        raise ValueError(f'steps must be >= 1, got {steps}')
    on_cuda = _on_cuda(device)
    counts = dict(kernel_launches=0, graph_launches=0, host_syncs=0, device_to_host_copies=0, item_reads=0, cpu_ops=0)
    intervals: list[tuple[float, float]] = []
    totals: dict[str, list] = defaultdict(lambda: [0, 0.0])
    for event in events:
        name = event.name
        if event.device_type == DeviceType.CPU:
            api = _api_name(name)
            counts['kernel_launches'] += api in KERNEL_LAUNCHES
            counts['graph_launches'] += api in GRAPH_LAUNCHES
            counts['host_syncs'] += api in HOST_SYNCS
            counts['item_reads'] += name == ITEM_READ
            counts['cpu_ops'] += name.startswith('aten::')
            if not on_cuda and not getattr(event, 'is_user_annotation', False):
                totals[name][0] += 1
                totals[name][1] += float(event.self_cpu_time_total)
        elif _is_device_work(event):
            intervals.append((float(event.time_range.start), float(event.time_range.end)))
            counts['device_to_host_copies'] += name.startswith('Memcpy DtoH')
            if on_cuda:
                totals[name][0] += 1
                totals[name][1] += _self_device_us(event)
    summary: dict = dict(steps=steps, device=device, host_ms=wall_s * 1e3 / steps,
                         device_busy_ms=_union_us(intervals) / 1e3 / steps if on_cuda else None)
    summary.update({key: value / steps for key, value in counts.items()})
    summary['top_by'] = 'self device time' if on_cuda else 'self CPU time'
    summary['top'] = _top(totals, steps=steps, top_k=top_k)
    return summary


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f'{value:.2f}'


def _ms(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.2f}'


def _cell(text: str, width: int = 100) -> str:
    """``text`` as a Markdown table cell: pipes escaped, cut to ``width`` characters."""
    text = text if len(text) <= width else text[:width - 3] + '...'
    return text.replace('|', '\\|')


def summary_markdown(summaries: Mapping[str, dict]) -> str:
    """A Markdown table of :func:`summarise_events` results, one row per recipe (the keys of ``summaries``): host and
    device-busy ms per step, device idle % (``1 - busy / host``, '-' off CUDA) and the per-step counts; then each
    recipe's top list as a table of its own."""
    lines = ['| recipe | host ms/step | device busy ms/step | device idle % | kernel launches/step | host syncs/step '
             '| item reads/step | D2H copies/step |',
             '| --- | --- | --- | --- | --- | --- | --- | --- |']
    for recipe, s in summaries.items():
        busy, host = s['device_busy_ms'], s['host_ms']
        idle = '-' if busy is None or host <= 0 else f'{100.0 * (1.0 - busy / host):.1f}'
        lines.append(f"| {_cell(recipe)} | {_ms(host)} | {_ms(busy)} | {idle} | {_count(s['kernel_launches'])} | "
                     f"{_count(s['host_syncs'])} | {_count(s['item_reads'])} | {_count(s['device_to_host_copies'])} |")
    for recipe, s in summaries.items():
        lines += ['', f"**{_cell(recipe)}**: top {len(s['top'])} by {s['top_by']}", '',
                  '| name | calls/step | ms/step | % |', '| --- | --- | --- | --- |']
        lines += [f"| {_cell(e['name'])} | {_count(e['calls_per_step'])} | {_ms(e['ms_per_step'])} | "
                  f"{e['percent']:.1f} |" for e in s['top']]
    return '\n'.join(lines) + '\n'
