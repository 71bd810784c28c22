"""ONNX export with decoding in the graph: onnxruntime's keypoints equal PyTorch's ``predict`` for every
architecture, graphs pass ``onnx.checker``, and what cannot be exported is refused by name."""
import warnings

import numpy as np
import pytest
import torch

from conftest import image
from deploy_models import ARCHITECTURES, build_model

ort = pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')


@pytest.fixture(scope='module')
def export_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('onnx')


def _predict_samples(model, inputs, center, scale, input_size):
    """PyTorch's ``predict`` (the config's test_cfg) for crops with the given boxes: the data samples."""
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    samples = []
    for c, s in zip(center, scale):
        sample = PoseDataSample(metainfo=dict(flip_indices=model.dataset_meta['flip_indices'], input_center=c,
                                              input_scale=s, input_size=input_size))
        sample.gt_instances = InstanceData(bboxes=np.zeros((1, 4)), bbox_scores=np.ones(1))
        samples.append(sample)
    with torch.no_grad():
        return model.predict(inputs, samples)


def _predict(model, inputs, center, scale):
    """PyTorch's ``predict`` (the config's test_cfg, flip test on) for crops with the given boxes:
    keypoints (B, K, D) in image pixels and scores (B, K)."""
    results = _predict_samples(model, inputs, center, scale, model.head.decoder.input_size)
    return (np.stack([r.pred_instances.keypoints[0] for r in results]),
            np.stack([r.pred_instances.keypoint_scores[0] for r in results]))


@pytest.mark.parametrize('architecture', list(ARCHITECTURES))
def test_onnxruntime_keypoints_equal_predict(architecture, export_dir):
    from pose_plugins.deploy import export_onnx, read_metadata
    model = build_model(architecture)
    assert model.test_cfg.get('flip_test'), 'the demo configs test with flip'
    out = str(export_dir / f'{architecture}.onnx')
    export_onnx(model, out, flip_test=True, with_boxes=True)  # runs onnx.checker (full_check) itself
    proto = onnx.load(out)
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ['inputs', 'center', 'scale']
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'  # dynamic batch

    w, h = model.head.decoder.input_size
    inputs = image(3, 3, h, w, seed=1)  # a batch other than the traced one (2)
    center = np.array([[100.0, 200.0], [50.5, 60.25], [300.0, 10.0]], np.float32)
    scale = np.array([[96.0, 128.0], [30.0, 40.0], [150.0, 200.0]], np.float32)
    keypoints, scores = ort.InferenceSession(out).run(
        None, dict(inputs=inputs.numpy(), center=center, scale=scale))
    expected_keypoints, expected_scores = _predict(model, inputs, center, scale)
    dims = 3 if architecture == 'integral3d' else 2
    assert keypoints.shape == expected_keypoints.shape == (3, 17, dims)
    # 1e-3 px: the argmax maxima are the same (onnxruntime's and torch's float32 convolutions differ by ~1e-6 of a
    # heatmap value, far below the gaps between the top values of these N(0, 0.05^2)-weight maps: measured 0 px);
    # what remains is float32 rounding of sub-pixel offsets, soft-argmax sums and the box mapping (|x| < 500 px:
    # ulp 3e-5). The z column is in mm over a 1000-mm range: the same relative bound.
    np.testing.assert_allclose(keypoints[..., :2], expected_keypoints[..., :2], rtol=0, atol=1e-3)
    if dims == 3:
        np.testing.assert_allclose(keypoints[..., 2], expected_keypoints[..., 2], rtol=0, atol=1e-2)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-4, atol=1e-5)  # float32 heatmap values
    meta = read_metadata(out)
    assert meta['input_size'] == [w, h] and meta['flip_test'] and meta['with_boxes']
    assert meta['keypoint_dims'] == dims and len(meta['keypoint_names']) == 17 and meta['bbox_padding'] == 1.25
    print(f'{architecture}: max |onnxruntime - predict| = {np.abs(keypoints - expected_keypoints).max():.2e} px')


def test_crop_pixels_without_flip_or_boxes(export_dir):
    from pose_plugins.deploy import export_onnx
    model = build_model('simplebaseline')
    out = str(export_dir / 'crop.onnx')
    export_onnx(model, out, opset=13)
    proto = onnx.load(out)
    assert [i.name for i in proto.graph.input] == ['inputs']
    assert max(o.version for o in proto.opset_import if o.domain in ('', 'ai.onnx')) == 13
    inputs = image(1, 3, 128, 96, seed=2)
    keypoints, _ = ort.InferenceSession(out).run(None, dict(inputs=inputs.numpy()))
    model.test_cfg['flip_test'] = False
    # center = scale / 2 makes mmpose's image mapping the identity: crop pixels
    expected, _ = _predict(model, inputs, np.array([[48.0, 64.0]]), np.array([[96.0, 128.0]]))
    np.testing.assert_allclose(keypoints, expected, rtol=0, atol=1e-3)  # as above


def test_refusals_name_the_problem(export_dir):
    from pose_plugins.deploy import export_onnx
    model = build_model('hrnet')
    existing = export_dir / 'taken.onnx'
    existing.write_bytes(b'user file')
    with pytest.raises(FileExistsError, match='taken.onnx exists'):
        export_onnx(model, str(existing))
    assert existing.read_bytes() == b'user file'
    with pytest.raises(ValueError, match='opset must be an int >= 13, got 11'):
        export_onnx(model, str(export_dir / 'old.onnx'), opset=11)
    model.head.decoder.unbiased = True
    with pytest.raises(NotImplementedError, match=r'DARK decoding \(codec MSRAHeatmap with unbiased=True\)'):
        export_onnx(model, str(export_dir / 'dark.onnx'))
    assert not (export_dir / 'dark.onnx').exists()
    assert not list(export_dir.glob('*.partial'))


@pytest.mark.parametrize('architecture, num_vertices', [('mesh', 6890), ('mesh_anny', 13718)])
def test_mesh_model_onnxruntime_equals_predict(export_dir, architecture, num_vertices):
    """The mesh models (the SMPL-format mannequin; Anny) with flip test and boxes: image keypoints, 3D keypoints
    and vertices from the graph equal ``predict``'s."""
    from pose_plugins.deploy import export_onnx, read_metadata
    model = build_model(architecture)
    out = str(export_dir / f'{architecture}.onnx')
    export_onnx(model, out, flip_test=True, with_boxes=True)
    proto = onnx.load(out)
    assert [o.name for o in proto.graph.output] == ['keypoints', 'scores', 'keypoints_3d', 'vertices']
    w, h = model.head.input_size
    inputs = image(3, 3, h, w, seed=1)
    center = np.array([[100.0, 200.0], [50.5, 60.25], [300.0, 10.0]], np.float32)
    scale = np.array([[96.0, 96.0], [30.0, 30.0], [150.0, 150.0]], np.float32)
    keypoints, scores, keypoints_3d, vertices = ort.InferenceSession(out).run(
        None, dict(inputs=inputs.numpy(), center=center, scale=scale))
    results = _predict_samples(model, inputs, center, scale, model.head.input_size)
    expected = {key: np.stack([r.pred_instances.get(key)[0] for r in results])
                for key in ('keypoints', 'keypoint_scores', 'keypoints_3d', 'vertices')}
    assert vertices.shape == expected['vertices'].shape == (3, num_vertices, 3)
    # float32 through a 3-step MLP, Gram-Schmidt and skinning: ~1e-6 relative in metres (|v| < 2 m); the keypoints
    # are projected with f = 5000 px over a 64-px crop and mapped to boxes of <= 150 px: ~1e-4 px
    np.testing.assert_allclose(vertices, expected['vertices'], rtol=0, atol=1e-5)
    np.testing.assert_allclose(keypoints_3d, expected['keypoints_3d'], rtol=0, atol=1e-5)
    np.testing.assert_allclose(keypoints, expected['keypoints'], rtol=0, atol=1e-3)
    np.testing.assert_array_equal(scores, expected['keypoint_scores'])
    assert np.abs(expected['vertices'][0] - expected['vertices'][1]).max() > 1e-3  # the crops give other bodies
    meta = read_metadata(out)
    assert meta['input_size'] == [w, h] and meta['keypoint_dims'] == 2 and meta['flip_test']


def test_traced_decoding_takes_the_torch_path_with_the_same_numbers():
    """Traced (what torch.onnx.export records), the decoding runs on torch with constant kernel shapes; eager, on
    CPU, it runs in numpy: the same keypoints and blur either way."""
    from pose_plugins.codecs.utils import heatmap_decode
    heatmaps = image(2, 17, 8, 6)

    def decode(maps):
        assert heatmap_decode._uses_numpy(maps) is not torch.jit.is_tracing()
        locations, scores = heatmap_decode.get_heatmap_maximum(maps)
        return torch.as_tensor(locations), torch.as_tensor(scores), heatmap_decode.blur_heatmaps(maps, 5)

    with warnings.catch_warnings():
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        traced = torch.jit.trace(decode, (heatmaps, ))
    for eager, from_trace in zip(decode(heatmaps), traced(heatmaps)):
        np.testing.assert_array_equal(from_trace.numpy(), eager.numpy())
