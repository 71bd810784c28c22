"""StackedHourglass and its layers (HourglassResidual, HourglassModule): shapes, recursion, links, gradients, errors."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpose.registry import MODELS as MMPOSE_MODELS
from torch import nn

from conftest import randomize_state
from pose_plugins.models.backbones.stacked_hourglass import StackedHourglass
from pose_plugins.models.layers.hourglass_module import HourglassModule
from pose_plugins.models.layers.hourglass_residual import HourglassResidual

K = 3
TINY = dict(out_channels=K, num_channels=8, stem_channels=(4, 8))


# ---------------------------------------------------------------- HourglassResidual


def _residual_reference(block: HourglassResidual, x: torch.Tensor) -> torch.Tensor:
    """Pre-activation bottleneck written out with functional ops (eval-mode BN)."""
    out = x
    for index in (1, 2, 3):
        norm = block.get_norm(index)
        conv = getattr(block, f'conv{index}')
        out = F.batch_norm(out, norm.running_mean, norm.running_var, norm.weight, norm.bias, training=False,
                           eps=norm.eps)
        out = F.conv2d(torch.relu(out), conv.weight, conv.bias, padding=conv.kernel_size[0] // 2)
    skip = x if block.skip is None else F.conv2d(x, block.skip.weight, block.skip.bias)
    return out + skip


@pytest.mark.parametrize('in_channels,out_channels', [(6, 6), (4, 10)], ids=['identity-skip', 'projection'])
def test_residual_is_preactivation_bottleneck_of_half_width(in_channels, out_channels):
    block = HourglassResidual(in_channels=in_channels, out_channels=out_channels)
    block = randomize_state(block, 0, std=0.3).double().eval()
    assert block.mid_channels == out_channels // 2
    assert block.conv1.out_channels == block.conv2.out_channels == out_channels // 2
    assert (block.skip is None) == (in_channels == out_channels)
    assert block.conv1.bias is None and block.conv2.bias is None and block.conv3.bias is not None
    x = torch.randn(2, in_channels, 5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = block(x)
    assert out.shape == (2, out_channels, 5, 4)
    torch.testing.assert_close(out, _residual_reference(block, x))
    assert (out < 0).any(), 'no ReLU after the sum (pre-activation)'


def test_residual_with_cp_gives_same_output_and_grads():
    torch.manual_seed(0)
    plain = randomize_state(HourglassResidual(in_channels=4, out_channels=6), 0, std=0.3).train()
    ckpt = HourglassResidual(in_channels=4, out_channels=6, with_cp=True).train()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 4, 4, 4)
    outs = []
    for block in (plain, ckpt):
        out = block(x)
        out.pow(2).sum().backward()
        outs.append((out.detach(), block.conv2.weight.grad.clone()))
    torch.testing.assert_close(outs[0], outs[1])


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=4, out_channels=5), r'out_channels must be even.*got 5'),
    (dict(in_channels=0, out_channels=4), r'in_channels must be a positive int, got 0'),
])
def test_residual_bad_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HourglassResidual(**kwargs)


# ---------------------------------------------------------------- HourglassModule


@pytest.mark.parametrize('order', [1, 2, 3, 4])
def test_hourglass_module_structure_and_pools(order, monkeypatch):
    """An order-n hourglass nests n modules, has 3n + 1 residuals, pools n times down to H / 2**n."""
    hourglass = HourglassModule(order=order, channels=4).eval()
    assert sum(isinstance(m, HourglassModule) for m in hourglass.modules()) == order
    assert sum(isinstance(m, HourglassResidual) for m in hourglass.modules()) == 3 * order + 1
    pooled_sizes = []
    max_pool2d = F.max_pool2d

    def counting_max_pool2d(x, *args, **kwargs):
        pooled_sizes.append(tuple(x.shape[-2:]))
        return max_pool2d(x, *args, **kwargs)

    monkeypatch.setattr(F, 'max_pool2d', counting_max_pool2d)
    size = 2**order * 2
    out = hourglass(torch.randn(1, 4, size, size))
    assert out.shape == (1, 4, size, size)
    assert pooled_sizes == [(size // 2**i, size // 2**i) for i in range(order)]


def test_hourglass_with_identity_residuals_hand_computed():
    """With every residual path zeroed, each residual is the identity and an order-2 hourglass is
    x + up(pool(x) + up(pool(pool(x)))), checked on a 4x4 ramp against numbers worked out by hand."""
    hourglass = HourglassModule(order=2, channels=2).eval()
    for module in hourglass.modules():
        if isinstance(module, HourglassResidual):
            nn.init.zeros_(module.conv3.weight)
            nn.init.zeros_(module.conv3.bias)
    x = torch.arange(16.).reshape(1, 1, 4, 4).repeat(1, 2, 1, 1)
    # pool(x) = [[5, 7], [13, 15]]; pool(pool(x)) = [[15]]; inner = [[20, 22], [28, 30]]
    expected = torch.tensor([[20., 21., 24., 25.], [24., 25., 28., 29.], [36., 37., 40., 41.],
                             [40., 41., 44., 45.]])
    torch.testing.assert_close(hourglass(x), expected.expand(1, 2, 4, 4))


def _max_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    return x.reshape(b, c, h // 2, 2, w // 2, 2).amax(dim=(3, 5))


def _upsample_2x(x: torch.Tensor) -> torch.Tensor:
    return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


def test_order2_hourglass_equals_unrolled_computation_float64():
    """The recursive module equals Newell's order-2 hourglass written out level by level (float64, eval)."""
    hourglass = randomize_state(HourglassModule(order=2, channels=6), 3, std=0.3).double().eval()
    inner = hourglass.low2
    assert isinstance(inner, HourglassModule) and isinstance(inner.low2, HourglassResidual)

    def res(block, t):
        return _residual_reference(block, t)

    x = torch.randn(2, 6, 8, 12, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    half = res(hourglass.low1, _max_pool_2x2(x))  # 4x6
    quarter = res(inner.low1, _max_pool_2x2(half))  # 2x3
    inner_out = res(inner.up1, half) + _upsample_2x(res(inner.low3, res(inner.low2, quarter)))  # 4x6
    expected = res(hourglass.up1, x) + _upsample_2x(res(hourglass.low3, inner_out))  # 8x12
    torch.testing.assert_close(hourglass(x), expected)


def test_hourglass_module_odd_size_error():
    with pytest.raises(ValueError, match=r'order 1 .* multiples of 2\*\*1 = 2.*got 5x4'):
        HourglassModule(order=1, channels=4)(torch.randn(1, 4, 5, 4))


# ---------------------------------------------------------------- StackedHourglass


@pytest.mark.parametrize('num_stacks', [1, 2])
@pytest.mark.parametrize('order', [1, 2, 3, 4])
def test_output_is_one_heatmap_per_stack_at_stride4(order, num_stacks):
    model = StackedHourglass(num_stacks=num_stacks, order=order, **TINY).eval()
    h, w = 2**(order + 2) * 2, 2**(order + 2)
    with torch.no_grad():
        out = model(torch.randn(2, 3, h, w))
    assert isinstance(out, tuple) and len(out) == num_stacks
    assert all(o.shape == (2, K, h // 4, w // 4) for o in out)
    assert len(model.feature_links) == len(model.heatmap_links) == num_stacks - 1


def test_paper_sizes_256_input_gives_64x64_and_4x4_bottom(monkeypatch):
    """Default stem and order 4 (narrow widths to stay cheap): 256x256 -> 64x64 heatmaps, lowest 4x4."""
    model = StackedHourglass(out_channels=K, num_stacks=1, num_channels=8, stem_channels=(4, 8)).eval()
    sizes = []
    max_pool2d = F.max_pool2d
    monkeypatch.setattr(F, 'max_pool2d',
                        lambda x, *a, **kw: sizes.append(tuple(x.shape[-2:])) or max_pool2d(x, *a, **kw))
    with torch.no_grad():
        (out, ) = model(torch.randn(1, 3, 256, 256))
    assert out.shape == (1, K, 64, 64)
    assert sizes == [(128, 128), (64, 64), (32, 32), (16, 16), (8, 8)]  # the stem's pool, then the hourglass's


def test_inter_stack_links_feed_the_next_stack_only():
    model = randomize_state(StackedHourglass(num_stacks=2, order=2, **TINY), 5, std=0.3).eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        first, second = model(x)
        for links in (model.feature_links, model.heatmap_links):
            saved = links[0].weight.clone()
            links[0].weight.add_(0.5)
            first_p, second_p = model(x)
            links[0].weight.copy_(saved)
            torch.testing.assert_close(first_p, first)  # stack 1 does not see its own outgoing link
            assert (second_p - second).abs().max() > 1e-3  # stack 2 does


def test_gradient_from_last_stack_reaches_every_parameter():
    """The last stack's heatmaps alone reach every parameter, stack 1's heatmap conv through the heatmap link."""
    model = StackedHourglass(num_stacks=2, order=2, **TINY)
    model.init_weights()
    model.train()
    out = model(torch.randn(2, 3, 32, 32))
    out[-1].pow(2).mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_default_init_starts_heatmaps_near_zero():
    model = StackedHourglass(num_stacks=2, order=2, **TINY)
    model.init_weights()
    for conv in model.heatmap_convs:
        assert conv.weight.std() < 0.01 and conv.bias.abs().max() == 0
    assert model.feature_links[0].weight.std() > 0.05


def test_norm_cfg_reaches_every_norm_layer():
    model = StackedHourglass(num_stacks=2, order=2, norm_cfg=dict(type='GN', num_groups=2), **TINY)
    kinds = {type(m) for m in model.modules() if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm))}
    assert kinds == {nn.GroupNorm}


@pytest.mark.parametrize('size', [(60, 64), (64, 48)], ids=['bad-height', 'bad-width'])
def test_input_size_not_divisible_names_the_size(size):
    model = StackedHourglass(num_stacks=1, order=4, **TINY)
    h, w = size
    with pytest.raises(ValueError, match=rf'order=4.*multiples of 2\*\*\(order \+ 2\) = 64.*got {h}x{w}'):
        model(torch.randn(1, 3, h, w))


@pytest.mark.parametrize('kwargs,match', [
    (dict(num_stacks=0), r'num_stacks must be a positive int, got 0'),
    (dict(order=0), r'order must be a positive int, got 0'),
    (dict(stem_channels=(8, )), r'stem_channels must be two positive ints.*\(8,\)'),
])
def test_bad_constructor_args(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StackedHourglass(**{**TINY, **kwargs})


def test_registry_builds_ours_under_mmpose_scope():
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MMPOSE_MODELS.build(dict(type='pose_plugins.StackedHourglass', num_stacks=2, order=2, **TINY))
    assert type(model) is StackedHourglass


def test_paper_parameter_count():
    """Measured counts quoted in configs/hourglass_s2_coco.py (K = 17; convs feeding a norm have no bias)."""
    count = sum(p.numel() for p in StackedHourglass(out_channels=17, num_stacks=2).parameters())
    assert count == 6_562_914
