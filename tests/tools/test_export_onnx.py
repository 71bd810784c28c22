"""tools/export_onnx.py end to end: a checkpoint in, a checked ONNX file with the preprocessing metadata out; an
existing output is refused (the in-graph decoding itself: tests/deploy/test_onnx_export.py)."""
import json

import pytest
import torch

from conftest import REPO, run_tool

onnx = pytest.importorskip('onnx')
pytestmark = pytest.mark.slow  # two tool runs, each importing mmpose and tracing a model


def test_export_tool_writes_checked_graph_and_never_overwrites(tmp_path):
    from mmpose.apis import init_model
    config = REPO / 'configs' / 'demo' / 'simplebaseline_tiny_synthetic.py'
    checkpoint = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=init_model(str(config), None, device='cpu').state_dict()), checkpoint)
    out = tmp_path / 'sb.onnx'
    args = ['tools/export_onnx.py', str(config), str(checkpoint), '--out', str(out), '--flip-test', '--with-boxes',
            '--opset', '13']
    result = run_tool(args)
    assert result.returncode == 0, result.stderr[-3000:]
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ['inputs', 'center', 'scale']
    assert [o.name for o in proto.graph.output] == ['keypoints', 'scores']
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert meta['flip_test'] and meta['with_boxes'] and meta['input_size'] == [96, 128]
    assert meta['config'] == config.name and meta['bgr_to_rgb'] is True
    before = out.read_bytes()
    again = run_tool(args)
    assert again.returncode != 0 and '--overwrite' in again.stderr and out.read_bytes() == before
