"""tools/publish_model.py: training state removed, meta kept as plain values, sha256 prefix in the name, loads
with ``torch.load(weights_only=True)`` in a process that never imports pose_plugins, never overwrites."""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn


@pytest.fixture
def training_checkpoint(tmp_path):
    """What mmengine's Runner saves (meta with numpy dataset meta, message hub with HistoryBuffers, optimizer,
    schedulers) plus our RNG-state hook's entry, for a small model."""
    from mmengine.logging import MessageHub
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    optimizer.step()
    hub = MessageHub.get_instance('publish_test')
    hub.update_scalar('train/loss', 0.5)
    dataset_meta = parse_pose_metainfo(dict(from_file='configs/_base_/datasets/coco.py'))
    assert isinstance(dataset_meta['sigmas'], np.ndarray)  # what makes mmengine's meta need an allowlist
    checkpoint = dict(
        meta=dict(epoch=3, iter=30, seed=0, cfg='model = dict()', dataset_meta=dataset_meta,
                  experiment_name='demo', mmengine_version='0.10.7', best=np.float64(0.5)),
        state_dict=model.state_dict(), message_hub=hub.state_dict(), optimizer=optimizer.state_dict(),
        param_schedulers=[dict(last_step=3)], pose_plugins_resume=dict(numpy=np.random.get_state()))
    path = tmp_path / 'epoch_3.pth'
    torch.save(checkpoint, path)
    return path, model


def test_publish_keeps_weights_and_meta_only(training_checkpoint, tmp_path):
    from pose_plugins.deploy.checkpoint_publishing import publish_checkpoint
    path, model = training_checkpoint
    final, removed, dropped = publish_checkpoint(str(path), str(tmp_path / 'out' / 'hrnet_tiny.pth'))
    digest = hashlib.sha256(open(final, 'rb').read()).hexdigest()
    assert final == str(tmp_path / 'out' / f'hrnet_tiny-{digest[:8]}.pth')
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(final).st_mode & 0o777 == 0o666 & ~umask  # as a plainly created file, not mkstemp's 0600
    assert sorted(removed) == ['message_hub', 'optimizer', 'param_schedulers', 'pose_plugins_resume']
    assert dropped == []
    probe = ('import json, sys, torch; ck = torch.load(sys.argv[1], weights_only=True); '
             'assert not any(m.startswith(("pose_plugins", "mmengine", "mmpose")) for m in sys.modules), '
             'sorted(sys.modules); print(json.dumps(dict(keys=sorted(ck), meta=sorted(ck["meta"]), '
             'sigmas=ck["meta"]["dataset_meta"]["sigmas"], best=ck["meta"]["best"])))')
    out = subprocess.run([sys.executable, '-c', probe, final], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)  # not the repo root: no pose_plugins on the path either
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = json.loads(out.stdout)
    assert loaded['keys'] == ['meta', 'state_dict'] and loaded['best'] == 0.5
    assert {'epoch', 'iter', 'cfg', 'dataset_meta', 'experiment_name'} <= set(loaded['meta'])
    assert len(loaded['sigmas']) == 17
    state = torch.load(final, weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        torch.testing.assert_close(state[key], value, rtol=0, atol=0)

    with pytest.raises(FileExistsError, match='not overwritten'):
        publish_checkpoint(str(path), str(tmp_path / 'out' / 'hrnet_tiny'))
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [f'hrnet_tiny-{digest[:8]}.pth']


def test_plain_meta_drops_objects_by_name():
    from pose_plugins.deploy.checkpoint_publishing import plain_meta
    value, dropped = plain_meta(dict(a=np.arange(2), b=(1, object()), c=dict(d=nn.ReLU())))
    assert value == dict(a=[0, 1], b=(1, ), c={})
    assert dropped == ['meta.b[1] (builtins.object)', 'meta.c.d (torch.nn.modules.activation.ReLU)']


def test_tool(training_checkpoint, tmp_path, monkeypatch, capsys):
    from pose_plugins.apis import publish_model as tool
    path, _ = training_checkpoint
    monkeypatch.setattr('sys.argv', ['publish_model.py', str(path), str(tmp_path / 'pub')])
    assert tool.main() == 0
    out = capsys.readouterr().out
    assert 'removed: optimizer' in out and 'removed: message_hub' in out
    (published, ) = tmp_path.glob('pub-*.pth')
    assert f'wrote {published}' in out
    assert tool.main() == 1 and 'not overwritten' in capsys.readouterr().err
