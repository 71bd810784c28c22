"""tools/export_onnx.py (pose_plugins.apis.export_onnx.main, in process): a checkpoint in, a checked ONNX file with
the preprocessing metadata out; an existing output is refused (the in-graph decoding itself:
tests/deploy/test_onnx_export.py)."""
import json

import pytest
import torch

from conftest import REPO

onnx = pytest.importorskip('onnx')


def test_export_tool_writes_checked_graph_and_never_overwrites(tmp_path, monkeypatch, capsys):
    from mmpose.apis import init_model
    config = REPO / 'configs' / 'demo' / 'simplebaseline_tiny_synthetic.py'
    checkpoint = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=init_model(str(config), None, device='cpu').state_dict()), checkpoint)
    out = tmp_path / 'sb.onnx'
    from pose_plugins.apis import export_onnx as tool
    monkeypatch.setattr('sys.argv', ['export_onnx.py', str(config), str(checkpoint), '--out', str(out),
                                     '--flip-test', '--with-boxes', '--opset', '13'])
    assert tool.main() == 0
    assert f'wrote {out} (opset 13, flip test on, image pixels)' in capsys.readouterr().out
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ['inputs', 'center', 'scale']
    assert [o.name for o in proto.graph.output] == ['keypoints', 'scores']
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert meta['flip_test'] and meta['with_boxes'] and meta['input_size'] == [96, 128]
    assert meta['config'] == config.name and meta['bgr_to_rgb'] is True
    before = out.read_bytes()
    with pytest.raises(SystemExit):
        tool.main()
    assert '--overwrite' in capsys.readouterr().err and out.read_bytes() == before
