"""BasicBlock, Bottleneck, make_res_layer and HRModule: key names and outputs equal to mmpose's, shapes,
argument errors, norm_cfg, zero_init_last, activation checkpointing."""
import pytest
import torch
import torch.nn as nn
from mmpose.models.backbones.hrnet import HRModule as MMPoseHRModule
from mmpose.models.backbones.resnet import BasicBlock as MMPoseBasicBlock
from mmpose.models.backbones.resnet import Bottleneck as MMPoseBottleneck
from torch.nn.modules.batchnorm import _BatchNorm

from conftest import image, randomize_norms
from pose_plugins.models.layers.basic_block import BasicBlock
from pose_plugins.models.layers.res_layer import make_res_layer
from pose_plugins.models.layers.bottleneck import Bottleneck
from pose_plugins.models.layers.hr_module import HRModule


def projection(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))


BLOCK_CASES = {
    'basic_identity': (BasicBlock, MMPoseBasicBlock, 16, 16, 1),
    'basic_stride2_projection': (BasicBlock, MMPoseBasicBlock, 8, 16, 2),
    'bottleneck_projection': (Bottleneck, MMPoseBottleneck, 16, 8, 1),
    'bottleneck_stride2_projection': (Bottleneck, MMPoseBottleneck, 16, 8, 2),
    'bottleneck_identity': (Bottleneck, MMPoseBottleneck, 32, 8, 1),
}


@pytest.mark.parametrize('block,mm_block,inplanes,planes,stride', BLOCK_CASES.values(), ids=BLOCK_CASES.keys())
def test_block_matches_mmpose(block, mm_block, inplanes, planes, stride):
    torch.manual_seed(0)
    out_channels = planes * block.expansion
    needs_projection = stride != 1 or inplanes != out_channels
    ref = mm_block(inplanes, out_channels, stride=stride,
                   downsample=projection(inplanes, out_channels, stride) if needs_projection else None)
    randomize_norms(ref, seed=1)
    ours = block(inplanes=inplanes, planes=planes, stride=stride,
                 downsample=projection(inplanes, out_channels, stride) if needs_projection else None)
    ours.load_state_dict(ref.state_dict(), strict=True)
    ref.eval()
    ours.eval()
    x = image(2, inplanes, 9, 7)
    out = ours(x)
    assert out.shape == (2, out_channels, (9 + stride - 1) // stride, (7 + stride - 1) // stride)
    torch.testing.assert_close(out, ref(x), rtol=0, atol=1e-5)


def test_block_key_names_expansion_and_stride_position():
    basic = BasicBlock(inplanes=8, planes=16, stride=2, downsample=projection(8, 16, 2))
    assert BasicBlock.expansion == 1
    assert list(basic.state_dict()) == [
        'conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
        'conv2.weight', 'bn2.weight', 'bn2.bias', 'bn2.running_mean', 'bn2.running_var', 'bn2.num_batches_tracked',
        'downsample.0.weight', 'downsample.1.weight', 'downsample.1.bias', 'downsample.1.running_mean',
        'downsample.1.running_var', 'downsample.1.num_batches_tracked']
    bottleneck = Bottleneck(inplanes=16, planes=8, stride=2, downsample=projection(16, 32, 2))
    assert Bottleneck.expansion == 4
    assert [k for k in bottleneck.state_dict() if k.endswith('weight')] == [
        'conv1.weight', 'bn1.weight', 'conv2.weight', 'bn2.weight', 'conv3.weight', 'bn3.weight',
        'downsample.0.weight', 'downsample.1.weight']
    # ResNet v1.5 / mmpose style='pytorch': the stride sits on the 3x3 conv
    assert bottleneck.conv1.stride == (1, 1) and bottleneck.conv2.stride == (2, 2)
    assert bottleneck.conv2.kernel_size == (3, 3) and bottleneck.conv3.out_channels == 32


@pytest.mark.parametrize('block,kwargs,message', [
    (BasicBlock, dict(inplanes=8, planes=16),
     r'BasicBlock\(inplanes=8, planes=16, stride=1\) .* needs a `downsample`'),
    (Bottleneck, dict(inplanes=16, planes=16), r'planes \* expansion = 64 .* needs a `downsample`'),
    (Bottleneck, dict(inplanes=64, planes=16, stride=2), r'stride=2\) changes the shape'),
    (BasicBlock, dict(inplanes=8, planes=0), r'BasicBlock: planes must be a positive int, got 0'),
], ids=['basic_channels', 'bottleneck_channels', 'bottleneck_stride', 'zero_planes'])
def test_block_shape_errors(block, kwargs, message):
    with pytest.raises(ValueError, match=message):
        block(**kwargs)


@pytest.mark.parametrize('block', [BasicBlock, Bottleneck])
def test_norm_cfg_reaches_every_norm_and_names_follow_mmcv(block):
    layer = make_res_layer(block, inplanes=8, planes=8, num_blocks=2, stride=2,
                           norm_cfg=dict(type='GN', num_groups=2))
    norms = [m for m in layer.modules() if isinstance(m, (_BatchNorm, nn.GroupNorm))]
    assert len(norms) == sum(isinstance(m, nn.Conv2d) for m in layer.modules())
    assert all(type(m) is nn.GroupNorm for m in norms)
    assert '0.gn1.weight' in layer.state_dict() and '1.gn2.weight' in layer.state_dict()
    assert '0.downsample.1.weight' in layer.state_dict() and not hasattr(layer[1], 'bn1')


def test_make_res_layer_projection_only_where_needed():
    same = make_res_layer(BasicBlock, inplanes=8, planes=8, num_blocks=2)
    assert same[0].downsample is None and same[1].downsample is None
    wide = make_res_layer(Bottleneck, inplanes=64, planes=16, num_blocks=3, stride=2)
    assert isinstance(wide[0].downsample, nn.Sequential) and wide[0].downsample[0].stride == (2, 2)
    assert all(b.downsample is None and b.inplanes == 64 and b.stride == 1 for b in wide[1:])
    assert wide(image(1, 64, 8, 8)).shape == (1, 64, 4, 4)
    with pytest.raises(ValueError, match='num_blocks must be a positive int, got 0'):
        make_res_layer(BasicBlock, inplanes=8, planes=8, num_blocks=0)


@pytest.mark.parametrize('block', [BasicBlock, Bottleneck])
def test_zero_init_last_makes_block_relu_identity(block):
    torch.manual_seed(0)
    layer = block(inplanes=4 * block.expansion, planes=4).eval()
    layer.zero_init_last()
    x = image(1, 4 * block.expansion, 5, 5)
    torch.testing.assert_close(layer(x), x.relu())


@pytest.mark.parametrize('block', [BasicBlock, Bottleneck])
def test_with_cp_same_output_and_gradients(block):
    torch.manual_seed(0)
    plain = block(inplanes=8, planes=8, downsample=projection(8, 8 * block.expansion, 1))
    ckpt = block(inplanes=8, planes=8, downsample=projection(8, 8 * block.expansion, 1), with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = image(2, 8, 6, 6)
    outs = [m(x).sum() for m in (plain, ckpt)]
    torch.testing.assert_close(outs[1], outs[0])
    for out in outs:
        out.backward()
    for p, q in zip(plain.parameters(), ckpt.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('multiscale', [True, False], ids=['multiscale', 'single'])
def test_hr_module_matches_mmpose(multiscale):
    torch.manual_seed(0)
    in_channels, num_channels, num_blocks = (8, 20, 32), (8, 16, 32), (1, 2, 1)
    ref = MMPoseHRModule(3, MMPoseBasicBlock, list(num_blocks), list(in_channels), list(num_channels),
                         multiscale_output=multiscale)
    randomize_norms(ref, seed=1)
    ours = HRModule(block=BasicBlock, num_blocks=num_blocks, in_channels=in_channels, num_channels=num_channels,
                    multiscale_output=multiscale)
    assert ours.in_channels == in_channels and ours.out_channels == num_channels
    ours.load_state_dict(ref.state_dict(), strict=True)
    ref.eval()
    ours.eval()
    x = [image(2, c, 16 // 2**b, 12 // 2**b, seed=b) for b, c in enumerate(in_channels)]
    expected = ref([t.clone() for t in x])
    actual = ours(x)
    assert len(actual) == (3 if multiscale else 1) == len(expected)
    for exp, act in zip(expected, actual):
        torch.testing.assert_close(act, exp, rtol=0, atol=1e-5)


def test_hr_module_structure_and_errors():
    module = HRModule(block=BasicBlock, num_blocks=(1, 1, 1), in_channels=(8, 16, 32), num_channels=(8, 16, 32))
    fuse = module.fuse_layers
    assert fuse[0][0] is None and fuse[2][2] is None
    assert [type(m).__name__ for m in fuse[0][2]] == ['Conv2d', 'BatchNorm2d']  # 1x1 conv + norm, then upsample
    assert fuse[0][2][0].kernel_size == (1, 1)
    assert len(fuse[2][0]) == 2  # two chained stride-2 convs: ReLU after the first only
    assert [type(m).__name__ for m in fuse[2][0][0]] == ['Conv2d', 'BatchNorm2d', 'ReLU']
    assert [type(m).__name__ for m in fuse[2][0][1]] == ['Conv2d', 'BatchNorm2d']
    assert fuse[2][0][0][0].out_channels == 8 and fuse[2][0][1][0].out_channels == 32
    single = HRModule(block=BasicBlock, num_blocks=(1, ), in_channels=(8, ), num_channels=(8, ))
    assert single.fuse_layers is None
    with pytest.raises(ValueError, match=r'in_channels has 2 entries \(8, 16\) but num_channels \(8, 16, 32\)'):
        HRModule(block=BasicBlock, num_blocks=(1, 1, 1), in_channels=(8, 16), num_channels=(8, 16, 32))
    with pytest.raises(ValueError, match=r"align_corners'\] must be None for mode 'nearest'"):
        HRModule(block=BasicBlock, num_blocks=(1, 1), in_channels=(8, 16), num_channels=(8, 16),
                 upsample_cfg=dict(mode='nearest', align_corners=True))
    with pytest.raises(ValueError, match='HRModule with 3 branches got 2 inputs'):
        module([image(1, 8, 4, 4), image(1, 16, 2, 2)])


# mmpose's block arguments: (block, mmpose block, inplanes, planes, kwargs for both)
MMPOSE_ARG_CASES = {
    'basic_dilation_2': (BasicBlock, MMPoseBasicBlock, 8, 8, dict(dilation=2)),
    'bottleneck_caffe_stride2': (Bottleneck, MMPoseBottleneck, 16, 4, dict(stride=2, style='caffe')),
    'bottleneck_dilation_3': (Bottleneck, MMPoseBottleneck, 16, 4, dict(dilation=3)),
    'bottleneck_expansion_2': (Bottleneck, MMPoseBottleneck, 8, 4, dict(expansion=2)),
}


@pytest.mark.parametrize('block,mm_block,inplanes,planes,kwargs', MMPOSE_ARG_CASES.values(),
                         ids=MMPOSE_ARG_CASES.keys())
def test_block_with_mmpose_arguments_matches_mmpose(block, mm_block, inplanes, planes, kwargs):
    torch.manual_seed(0)
    stride = kwargs.get('stride', 1)
    out_channels = planes * kwargs.get('expansion', block.expansion)
    needs_projection = stride != 1 or inplanes != out_channels
    ref = mm_block(inplanes, out_channels, downsample=projection(inplanes, out_channels, stride)
                   if needs_projection else None, **kwargs)
    randomize_norms(ref, seed=1)
    ours = block(inplanes=inplanes, planes=planes, downsample=projection(inplanes, out_channels, stride)
                 if needs_projection else None, **kwargs)
    assert ours.out_channels == ref.out_channels and ours.planes == ref.mid_channels
    ours.load_state_dict(ref.state_dict(), strict=True)
    for name in ('conv1', 'conv2'):  # strides, paddings and dilations where mmpose puts them
        ref_conv, our_conv = getattr(ref, name), getattr(ours, name)
        assert (our_conv.stride, our_conv.padding, our_conv.dilation) == \
            (ref_conv.stride, ref_conv.padding, ref_conv.dilation), name
    x = image(2, inplanes, 9, 7)
    # same float32 ops in the same order: bitwise equal; 1e-6 leaves room for another conv algorithm choice
    torch.testing.assert_close(ours.eval()(x), ref.eval()(x), rtol=0, atol=1e-6)


@pytest.mark.parametrize('block,kwargs,message', [
    (Bottleneck, dict(style='tensorflow'), r"Bottleneck: style must be one of \('pytorch', 'caffe'\), got "
                                           r"'tensorflow'"),
    (BasicBlock, dict(expansion=2), r'BasicBlock: expansion must be 1, got 2'),
    (Bottleneck, dict(dilation=0), r'Bottleneck: dilation must be a positive int, got 0'),
], ids=['style', 'basic_expansion', 'dilation'])
def test_mmpose_argument_errors(block, kwargs, message):
    with pytest.raises(ValueError, match=message):
        block(inplanes=16, planes=16 // block.expansion, **kwargs)


@pytest.mark.parametrize('block', [BasicBlock, Bottleneck])
def test_make_res_layer_avg_down_projection(block):
    layer = make_res_layer(block, inplanes=32, planes=64 // block.expansion, num_blocks=3, stride=2, avg_down=True)
    down = layer[0].downsample
    assert [type(m).__name__ for m in down] == ['AvgPool2d', 'Conv2d', 'BatchNorm2d']
    assert down[0].stride == 2 and down[1].stride == (1, 1)
    assert all(b.downsample is None and b.stride == 1 and b.inplanes == 64 for b in layer[1:])
    assert layer(image(1, 32, 14, 14)).shape == (1, 64, 7, 7)
    no_stride = make_res_layer(block, inplanes=32, planes=64 // block.expansion, num_blocks=1, avg_down=True)
    assert [type(m).__name__ for m in no_stride[0].downsample] == ['Conv2d', 'BatchNorm2d']  # no pool at stride 1


def test_make_res_layer_custom_expansion():
    layer = make_res_layer(Bottleneck, inplanes=32, planes=16, num_blocks=3, expansion=2)
    assert all(b.out_channels == 32 and b.conv1.out_channels == 16 and b.downsample is None for b in layer)
    assert layer(image(1, 32, 6, 6)).shape == (1, 32, 6, 6)
