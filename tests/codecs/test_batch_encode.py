"""``batch_encode`` (a whole batch, tensor ops on the keypoints' device) == ``encode`` of each sample, every codec."""
import numpy as np
import pytest
import torch

from pose_plugins.codecs import CPNBlurHeatmap, IntegralRegressionLabel, MSRAHeatmap

INPUT_SIZE, HEATMAP_SIZE = (48, 64), (12, 16)  # stride 4
K = 9

# float32 rounding of the separable Gaussian: exp(a) * exp(b) vs exp(a + b) within ~12 * 2^-24 of the value
# (pose_plugins/codecs/utils/batch_encode.py), values <= 1
GAUSSIAN_ATOL = 1e-6

CASES = {
    'msra-sigma2': (lambda: MSRAHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2), GAUSSIAN_ATOL),
    'msra-sigma1.5': (lambda: MSRAHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=1.5),
                      GAUSSIAN_ATOL),  # 3 sigma not an integer: the window's truncation rules
    'msra-dark': (lambda: MSRAHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2, unbiased=True),
                  GAUSSIAN_ATOL),
    # profiles normalised before the product: 3 float32 roundings a side, < 2e-7 of values <= 1 (module doc)
    'cpn-single': (lambda: CPNBlurHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, kernel_sizes=7), 1e-6),
    'cpn-multilevel': (lambda: CPNBlurHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE,
                                              kernel_sizes=(15, 11, 9, 7)), 1e-6),
    # heatmaps / their sum: torch and numpy add the sum in another order, a few float32 ulp of values <= 1
    'integral-2d': (lambda: IntegralRegressionLabel(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE), 1e-6),
    'integral-3d': (lambda: IntegralRegressionLabel(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE,
                                                    bbox_3d_shape=2000.0), 1e-6),
    'integral-no-heatmaps': (lambda: IntegralRegressionLabel(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE,
                                                             with_heatmaps=False), 0.0),
}


def _keypoints(seed: int, batch: int, instances: int, dims: int, dtype=np.float32):
    """Keypoints inside, on and off the borders (and on integer and half-pixel grid points), visibilities
    0 / 0.3 / 0.5 / 1 / 2, a NaN coordinate on an unlabelled keypoint; depths in and out of range (3D)."""
    rng = np.random.default_rng(seed)
    w, h = INPUT_SIZE
    keypoints = rng.uniform([-0.3 * w, -0.3 * h], [1.3 * w, 1.3 * h], size=(batch, instances, K, 2))
    keypoints[:, :, 0] = rng.choice([0.0, w - 1.0, float(w), -2.0, 1.5, 10.0], size=(batch, instances, 2))
    keypoints[:, :, 1] = np.round(keypoints[:, :, 1])
    visible = rng.choice([0.0, 0.3, 0.5, 1.0, 2.0], size=(batch, instances, K))
    keypoints[0, 0, 2] = np.nan
    visible[0, 0, 2] = 0.0
    if dims == 3:
        keypoints = np.concatenate([keypoints, rng.uniform(-1500, 1500, size=(batch, instances, K, 1))], axis=-1)
    return keypoints.astype(dtype), visible.astype(np.float32)


def _stack(values) -> np.ndarray:
    return np.stack([np.stack(v) if isinstance(v, list) else v for v in values])


@pytest.mark.parametrize('instances', [1, 3], ids=['N1', 'N3'])
@pytest.mark.parametrize('name', sorted(CASES))
def test_batch_encode_equals_encode(name, instances):
    make, atol = CASES[name]
    codec = make()
    dims = 3 if getattr(codec, 'is_3d', False) else 2
    for dtype in (np.float32, np.float64):
        keypoints, visible = _keypoints(7, batch=5, instances=instances, dims=dims, dtype=dtype)
        want = [codec.encode(k, v) for k, v in zip(keypoints, visible)]
        got = codec.batch_encode(torch.from_numpy(keypoints), torch.from_numpy(visible))
        assert sorted(got) == sorted(want[0])
        for key, value in got.items():
            expected = _stack([w[key] for w in want])
            assert value.dtype == torch.float32 and tuple(value.shape) == expected.shape, key
            tol = atol if key == 'heatmaps' else 0.0  # labels and weights: the same operations, exactly
            np.testing.assert_allclose(value.numpy(), expected, rtol=0, atol=tol, err_msg=f'{name} {key}')


def test_batch_encode_defaults_and_errors():
    codec = MSRAHeatmap(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE, sigma=2)
    keypoints = torch.tensor([[[[10.0, 20.0]]]])
    torch.testing.assert_close(codec.batch_encode(keypoints)['keypoint_weights'], torch.ones(1, 1, 1))
    with pytest.raises(ValueError, match=r'MSRAHeatmap.batch_encode: keypoints must be a floating-point tensor'):
        codec.batch_encode(keypoints[0])
    with pytest.raises(ValueError, match=r'keypoints_visible must be a tensor of shape \(B, N, K\)'):
        codec.batch_encode(keypoints, torch.ones(1, 1))
    with pytest.raises(ValueError, match=r'\(B, N, K, 2\) or \(B, N, K, 3\)'):
        IntegralRegressionLabel(input_size=INPUT_SIZE, heatmap_size=HEATMAP_SIZE,
                                bbox_3d_shape=2000.0).batch_encode(torch.zeros(1, 1, 1, 4))


def test_large_cpu_batches_reuse_freed_memory_with_the_same_values(monkeypatch):
    """A CPU batch of at least ``POOLED_MIN_BYTES`` is written into a buffer of the pool (anonymous memory,
    reused once the batch is freed) with exactly the values of the plain product (the same float32
    multiplications); a small batch is a plain tensor. A freed batch's memory serves the next batch of its size;
    a view that outlives its batch keeps the memory from being reused. The threshold is lowered so that a small
    CPN batch takes the pooled path: both paths compared on the same inputs."""
    import gc

    from pose_plugins.codecs.utils import batch_encode as module
    codec = CPNBlurHeatmap(input_size=(192, 256), heatmap_size=(48, 64), kernel_sizes=(15, 11, 9, 7))
    keypoints, visible = (torch.from_numpy(a) for a in _keypoints(3, batch=4, instances=1, dims=2))
    plain = codec.batch_encode(keypoints, visible)['heatmaps']
    assert plain.nbytes < module.POOLED_MIN_BYTES
    monkeypatch.setattr(module, 'POOLED_MIN_BYTES', 1024)
    monkeypatch.setattr(module, 'CPU_TARGET_BUFFERS', module.CPUTargetBuffers(max_bytes=4 * plain.nbytes))
    pooled = codec.batch_encode(keypoints, visible)['heatmaps']
    assert pooled.shape == plain.shape == (4, 4, K, 64, 48) and pooled.is_contiguous()
    assert torch.equal(pooled, plain) and pooled.max() == 1.0  # every drawn map peaks at 1
    pooled.add_(1.0)  # an ordinary writable tensor
    assert torch.equal(pooled, plain + 1.0)

    address = pooled.data_ptr()
    del pooled
    gc.collect()
    again = codec.batch_encode(keypoints, visible)['heatmaps']
    assert again.data_ptr() == address and torch.equal(again, plain)  # reused, every value rewritten
    view, kept = again[1], again[1].clone()
    del again
    gc.collect()
    other = codec.batch_encode(keypoints + 7.0, visible)['heatmaps']
    assert other.data_ptr() != address and torch.equal(view, kept)  # the view's memory was not handed out
