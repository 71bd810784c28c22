"""``LazyRuntimeInfoHook`` gives the message hub, the logs and the checkpoints mmengine's ``RuntimeInfoHook`` gives,
reading the step's tensors back only when they are logged."""
import json
import uuid

import pytest
import torch
from mmengine.hooks import CheckpointHook, RuntimeInfoHook
from mmengine.runner import Runner

from pose_plugins.engine import LazyRuntimeInfoHook

from toy_runner import NoisyDataset, ToyModel

LOG_INTERVAL = 3  # 4 iterations an epoch: logs at inner iterations 3 and at each epoch's end


class ToyModelWithAccuracy(ToyModel):
    """The toy model's loss plus a float64 accuracy-like value, as ``acc_pose`` is."""

    def forward(self, inputs, target, mode: str = 'tensor'):
        out = super().forward(inputs, target, mode)
        if mode == 'loss':
            out['acc'] = (out['loss'].detach().double() * 3.0).clamp(max=1.0)
        return out


def run(work_dir, runtime_info, *, max_epochs: int = 2) -> Runner:
    torch.manual_seed(0)
    loader = dict(dataset=NoisyDataset(), sampler=dict(type='DefaultSampler', shuffle=True), batch_size=2,
                  num_workers=0)
    runner = Runner(
        model=ToyModelWithAccuracy(), work_dir=str(work_dir), experiment_name=f'toy_{uuid.uuid4().hex}',
        train_dataloader=loader, train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        default_hooks=dict(runtime_info=runtime_info, logger=dict(type='LoggerHook', interval=LOG_INTERVAL),
                           checkpoint=CheckpointHook(interval=3, by_epoch=False)),
        randomness=dict(seed=0), default_scope='mmengine', log_level='WARNING')
    runner.train()
    return runner


def scalars_logged(work_dir) -> list:
    [log] = list(work_dir.glob('*/vis_data/scalars.json'))
    return [{k: v for k, v in json.loads(line).items() if k not in ('time', 'data_time', 'eta', 'memory')}
            for line in log.read_text().splitlines()]


def test_same_history_logs_and_checkpoints_as_mmengines_hook(tmp_path, monkeypatch):
    reads = {'item': 0}
    item = torch.Tensor.item

    def counted_item(self):
        reads['item'] += 1
        return item(self)

    monkeypatch.setattr(torch.Tensor, 'item', counted_item)
    theirs = run(tmp_path / 'mmengine', RuntimeInfoHook())
    their_reads, reads['item'] = reads['item'], 0
    hook = LazyRuntimeInfoHook()
    flushes = []
    flush = hook.flush
    monkeypatch.setattr(hook, 'flush', lambda runner: flushes.append(len(hook._pending)) or flush(runner))
    ours = run(tmp_path / 'lazy', hook)
    # mmengine's reads 8 iterations x (loss, acc) one by one; the rest (runner set-up, one per epoch's loader)
    # is outside the hook and the same in both runs
    assert their_reads - reads['item'] == 16
    # logged at iteration 3, epoch end 4, checkpoint at 6 (iterations 5-6), logged at 7 (inner 3), epoch end 8
    assert [n for n in flushes if n] == [3, 1, 2, 1, 1]
    for key in ('train/loss', 'train/acc'):
        a, b = theirs.message_hub.get_scalar(key), ours.message_hub.get_scalar(key)
        assert a.data[0].tolist() == b.data[0].tolist() and len(a.data[0]) == 8
    assert scalars_logged(tmp_path / 'mmengine') == scalars_logged(tmp_path / 'lazy')
    for name in ('iter_3.pth', 'iter_6.pth'):
        a, b = (torch.load(tmp_path / d / name, weights_only=False)['message_hub']['log_scalars']
                for d in ('mmengine', 'lazy'))
        assert {k: v.data[0].tolist() for k, v in a.items() if k.startswith('train/') and 'time' not in k} == \
            {k: v.data[0].tolist() for k, v in b.items() if k.startswith('train/') and 'time' not in k}


def test_max_pending_is_checked():
    with pytest.raises(ValueError, match='max_pending must be >= 1, got 0'):
        LazyRuntimeInfoHook(max_pending=0)
