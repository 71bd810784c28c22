"""tools/convert_checkpoint.py: each source layout, built in the test from its documented key names (the source
model is written here, or is mmpose's module of the same names), converts to weights that give our model the
source model's outputs; unknown and unused keys are listed, never dropped silently."""
import pytest
import torch
from torch import nn

from conftest import REPO, image, randomize_state

def _tiny_hrnet_extra() -> dict:
    """The stage table of the CPU demos' small HRNet (configs/_base_/hrnet_tiny.py)."""
    from mmengine.config import Config
    return Config.fromfile(str(REPO / 'configs' / '_base_' / 'hrnet_tiny.py')).hrnet_tiny['extra'].to_dict()


def _convert(source: nn.Module, layout: str, prefix: str = 'module.'):
    from pose_plugins.deploy.checkpoint_conversion import convert_state_dict
    return convert_state_dict({prefix + k: v for k, v in source.state_dict().items()}, layout)


def _ours(backbone: dict, head: dict) -> nn.Module:
    from pose_plugins.registry import MODELS

    class Model(nn.Module):  # our backbone + head under the names TopdownPoseEstimator gives them
        def __init__(self):
            super().__init__()
            self.backbone, self.head = MODELS.build(backbone), MODELS.build(head)

        def forward(self, x):
            return self.head(self.backbone(x))
    return Model().eval()


# ---- pose_hrnet (deep-high-resolution-net.pytorch): mmpose's HRNet has its names; + final_layer -------------

class PoseHighResolutionNet(nn.Module):
    """The original ``pose_hrnet``'s module names: the HRNet stages at the top level, then ``final_layer``."""

    def __init__(self):
        super().__init__()
        from mmpose.models.backbones import HRNet
        self.hrnet = HRNet(extra=_tiny_hrnet_extra())
        self.final_layer = nn.Conv2d(16, 17, kernel_size=1)

    def state_dict(self, *args, **kwargs):  # the original has the HRNet modules at the top level
        return {k.removeprefix('hrnet.'): v for k, v in super().state_dict(*args, **kwargs).items()}

    def forward(self, x):
        return self.final_layer(self.hrnet(x)[0])


def test_pose_hrnet():
    source = randomize_state(PoseHighResolutionNet(), 1, std=0.1).eval()
    keys = source.state_dict()
    for documented in ('conv1.weight', 'bn2.running_var', 'layer1.0.downsample.0.weight', 'transition1.1.0.0.weight',
                       'transition3.3.0.1.running_mean', 'stage2.0.branches.1.0.conv2.weight',
                       'stage3.0.fuse_layers.0.2.0.weight', 'stage3.0.fuse_layers.2.0.1.0.weight', 'final_layer.bias'):
        assert documented in keys
    assert not any(k.startswith('stage4.0.fuse_layers.1') for k in keys)  # stage 4 fuses to branch 0 only
    converted, report = _convert(source, 'pose_hrnet')
    assert not report.unmatched and not report.unused
    ours = _ours(dict(type='pose_plugins.HRNet', extra=_tiny_hrnet_extra()),
                 dict(type='pose_plugins.HeatmapHead', in_channels=16, out_channels=17, deconv_out_channels=None))
    ours.load_state_dict(converted, strict=True)
    x = image(2, 3, 64, 64)  # the original HRNet fuses by x2 upsampling: sides multiples of 32
    with torch.no_grad():
        torch.testing.assert_close(ours(x), source(x), rtol=0, atol=0)  # the same modules in the same order


# ---- pose_resnet (human-pose-estimation.pytorch) --------------------------------------------------------------

class PoseResNet(nn.Module):
    """``pose_resnet``: torchvision ResNet names (mmpose's ResNet has them), ``deconv_layers`` (ConvTranspose2d
    4x4 stride 2 padding 1 without bias, BN, ReLU, three times), ``final_layer`` (1x1)."""

    def __init__(self):
        super().__init__()
        from mmpose.models.backbones import ResNet
        self.resnet = ResNet(depth=18, stem_channels=32, base_channels=32)
        layers = []
        for c_in in (256, 64, 64):
            layers += [nn.ConvTranspose2d(c_in, 64, 4, stride=2, padding=1, output_padding=0, bias=False),
                       nn.BatchNorm2d(64), nn.ReLU(inplace=True)]
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(64, 17, kernel_size=1)

    def state_dict(self, *args, **kwargs):  # the original has the ResNet modules at the top level
        return {k.removeprefix('resnet.'): v for k, v in super().state_dict(*args, **kwargs).items()}

    def forward(self, x):
        return self.final_layer(self.deconv_layers(self.resnet(x)[-1]))


def test_pose_resnet():
    source = randomize_state(PoseResNet(), 2, std=0.1).eval()
    assert {'conv1.weight', 'layer4.1.bn2.bias', 'deconv_layers.0.weight', 'deconv_layers.7.running_var',
            'final_layer.weight'} <= set(source.state_dict())
    converted, report = _convert(source, 'pose_resnet', prefix='')
    assert not report.unmatched and not report.unused
    ours = _ours(dict(type='pose_plugins.ResNet', depth=18, stem_channels=32, base_channels=32),
                 dict(type='pose_plugins.HeatmapHead', in_channels=256, out_channels=17,
                      deconv_out_channels=(64, 64, 64)))
    ours.load_state_dict(converted, strict=True)
    x = image(2, 3, 64, 48)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), source(x), rtol=0, atol=0)


# ---- Stacked Hourglass (princeton-vl/pytorch_stacked_hourglass), written from its models/layers.py -------------

class Conv(nn.Module):
    def __init__(self, c_in, c_out, k=3, stride=1, bn=False, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride, padding=(k - 1) // 2, bias=True)
        self.relu = nn.ReLU() if relu else None
        self.bn = nn.BatchNorm2d(c_out) if bn else None

    def forward(self, x):
        x = self.conv(x)
        x = self.bn(x) if self.bn is not None else x
        return self.relu(x) if self.relu is not None else x


class Residual(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.relu = nn.ReLU()
        self.bn1, self.conv1 = nn.BatchNorm2d(c_in), Conv(c_in, c_out // 2, 1, relu=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(c_out // 2), Conv(c_out // 2, c_out // 2, 3, relu=False)
        self.bn3, self.conv3 = nn.BatchNorm2d(c_out // 2), Conv(c_out // 2, c_out, 1, relu=False)
        self.skip_layer = Conv(c_in, c_out, 1, relu=False)  # created always, called only if c_in != c_out
        self.need_skip = c_in != c_out

    def forward(self, x):
        residual = self.skip_layer(x) if self.need_skip else x
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        return self.conv3(self.relu(self.bn3(out))) + residual


class Hourglass(nn.Module):
    def __init__(self, n, f):
        super().__init__()
        self.up1, self.pool1, self.low1 = Residual(f, f), nn.MaxPool2d(2, 2), Residual(f, f)
        self.low2 = Hourglass(n - 1, f) if n > 1 else Residual(f, f)
        self.low3 = Residual(f, f)

    def forward(self, x):
        low = self.low3(self.low2(self.low1(self.pool1(x))))
        return self.up1(x) + nn.functional.interpolate(low, size=x.shape[2:], mode='nearest')


class PoseNet(nn.Module):
    """princeton-vl's PoseNet (stem widths 64/128 there; 16/32 here, as our tiny demo)."""

    def __init__(self, nstack=2, inp_dim=64, oup_dim=17, order=3, stem=(16, 32)):
        super().__init__()
        self.nstack = nstack
        self.pre = nn.Sequential(Conv(3, stem[0], 7, 2, bn=True, relu=True), Residual(stem[0], stem[1]),
                                 nn.MaxPool2d(2, 2), Residual(stem[1], stem[1]), Residual(stem[1], inp_dim))
        self.hgs = nn.ModuleList(nn.Sequential(Hourglass(order, inp_dim)) for _ in range(nstack))
        self.features = nn.ModuleList(nn.Sequential(Residual(inp_dim, inp_dim),
                                                    Conv(inp_dim, inp_dim, 1, bn=True, relu=True))
                                      for _ in range(nstack))
        self.outs = nn.ModuleList(Conv(inp_dim, oup_dim, 1, relu=False, bn=False) for _ in range(nstack))
        self.merge_features = nn.ModuleList(nn.Module() for _ in range(nstack - 1))
        self.merge_preds = nn.ModuleList(nn.Module() for _ in range(nstack - 1))
        for i in range(nstack - 1):  # Merge: a module whose .conv is a Conv without norm and activation
            self.merge_features[i].conv = Conv(inp_dim, inp_dim, 1, relu=False, bn=False)
            self.merge_preds[i].conv = Conv(oup_dim, inp_dim, 1, relu=False, bn=False)

    def forward(self, x):
        x = self.pre(x)
        preds = []
        for i in range(self.nstack):
            feature = self.features[i](self.hgs[i](x))
            preds.append(self.outs[i](feature))
            if i < self.nstack - 1:
                x = x + self.merge_preds[i].conv(preds[-1]) + self.merge_features[i].conv(feature)
        return torch.stack(preds, 1)


def test_stacked_hourglass_folds_biases_and_lists_unused_skips():
    source = randomize_state(PoseNet(), 3, std=0.1).eval()
    assert {'pre.0.conv.bias', 'pre.0.bn.running_mean', 'hgs.1.0.low2.low2.low2.conv2.conv.weight',
            'features.0.1.bn.weight', 'outs.1.conv.bias', 'merge_preds.0.conv.conv.weight'} <= set(source.state_dict())
    converted, report = _convert(source, 'hourglass')
    assert not report.unmatched
    # every equal-width Residual's skip_layer is unused (listed), the width-changing ones (stem) are converted
    assert report.unused and all('.skip_layer.conv.' in k for k in report.unused)
    assert 'pre.1.skip_layer.conv.weight' in report.renamed and 'pre.3.skip_layer.conv.weight' in report.unused
    assert report.folded['pre.1.conv1.conv.bias'] == 'backbone.stem.3.bn2.running_mean'
    ours = _ours(dict(type='pose_plugins.StackedHourglass', num_stacks=2, num_channels=64, order=3,
                      stem_channels=(16, 32), out_channels=17),
                 dict(type='pose_plugins.StackedHeatmapHead', num_stacks=2, out_channels=17))
    ours.load_state_dict(converted, strict=True)
    x = image(2, 3, 64, 32)
    with torch.no_grad():
        # 1e-4: the folded biases move a float32 sum (x + b - mean -> x - (mean - b)): a few ulp of values ~1,
        # through ~40 layers of BN-scaled convolutions (outputs ~1-10)
        torch.testing.assert_close(torch.stack(ours(x), 1), source(x), rtol=1e-4, atol=1e-4)


# ---- 3DMPPE PoseNet: module.backbone (torchvision ResNet) + module.head (deconvs + 1x1 to K x D) -------------

class PoseNet3D(nn.Module):
    """3DMPPE's ``main/model.py`` names; soft-argmax in heatmap pixels (its ``soft_argmax``)."""

    def __init__(self, joints=17, depth=8):
        super().__init__()
        from mmpose.models.backbones import ResNet
        self.backbone = ResNet(depth=18, stem_channels=16, base_channels=16)
        self.head = nn.Module()
        layers = []
        for c_in in (128, 32, 32):
            layers += [nn.ConvTranspose2d(c_in, 32, 4, stride=2, padding=1, output_padding=0, bias=False),
                       nn.BatchNorm2d(32), nn.ReLU(inplace=True)]
        self.head.deconv_layers = nn.Sequential(*layers)
        self.head.final_layer = nn.Conv2d(32, joints * depth, kernel_size=1)
        self.joints, self.depth = joints, depth

    def forward(self, x):
        maps = self.head.final_layer(self.head.deconv_layers(self.backbone(x)[-1]))
        b, _, h, w = maps.shape
        maps = torch.softmax(maps.reshape(b, self.joints, -1), 2).reshape(b, self.joints, self.depth, h, w)
        xs = (maps.sum(dim=(2, 3)) * torch.arange(w)).sum(-1)
        ys = (maps.sum(dim=(2, 4)) * torch.arange(h)).sum(-1)
        zs = (maps.sum(dim=(3, 4)) * torch.arange(self.depth)).sum(-1)
        return torch.stack([xs, ys, zs], -1), torch.tensor([w, h, self.depth])


def test_posenet3d():
    source = randomize_state(PoseNet3D(), 4, std=0.1).eval()
    converted, report = _convert(source, 'posenet3d')  # saved from DataParallel: module.backbone.*, module.head.*
    assert not report.unmatched and not report.unused
    ours = _ours(dict(type='pose_plugins.ResNet', depth=18, stem_channels=16, base_channels=16),
                 dict(type='pose_plugins.IntegralRegressionHead', in_channels=128, in_featuremap_size=(2, 2),
                      num_joints=17, depth_bins=8, deconv_out_channels=(32, 32, 32)))
    ours.load_state_dict(converted, strict=True)
    x = image(2, 3, 64, 64)
    with torch.no_grad():
        expected, size = source(x)
        coords, _ = ours(x)
    # ours are normalised (index / size); float32 sums of 17 x 8 x 16 x 16 probabilities in another order
    torch.testing.assert_close(coords * size, expected, rtol=0, atol=1e-4)


# ---- torchvision ResNet (backbone init) and mmpose 0.x --------------------------------------------------------

def test_torchvision_resnet_lists_the_classifier():
    from mmpose.models.backbones import ResNet
    source = ResNet(depth=18, out_indices=(0, 1, 2, 3))
    source.fc = nn.Linear(512, 1000)
    randomize_state(source, 5, std=0.1).eval()  # (mmpose's ResNet.train returns None)
    converted, report = _convert(source, 'torchvision_resnet', prefix='')
    assert report.unused == ['fc.weight', 'fc.bias'] and not report.unmatched
    from pose_plugins.models.backbones import ResNet as OurResNet
    ours = OurResNet(depth=18, out_indices=(0, 1, 2, 3)).eval()
    ours.load_state_dict(converted, strict=True)
    x = image(1, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(ours(x), source(x)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_mmpose0x_keypoint_head_with_conv_layers():
    from mmpose.models.backbones import ResNet
    from mmpose.models.heads import HeatmapHead
    head_args = dict(in_channels=256, out_channels=17, deconv_out_channels=(32, ), deconv_kernel_sizes=(4, ),
                     conv_out_channels=(32, ), conv_kernel_sizes=(3, ))
    backbone = randomize_state(ResNet(depth=18, stem_channels=32, base_channels=32), 6, std=0.1)
    backbone.eval()  # (mmpose's ResNet.train returns None)
    head = randomize_state(HeatmapHead(**head_args), 7, std=0.1).eval()
    # mmpose 0.x TopdownHeatmapSimpleHead: the intermediate convs and the final conv in one final_layer Sequential
    old = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    for key, value in head.state_dict().items():
        key = key.replace('conv_layers.', 'final_layer.') if key.startswith('conv_layers.') else \
            key.replace('final_layer.', 'final_layer.3.')
        old[f'keypoint_head.{key}'] = value
    from pose_plugins.deploy.checkpoint_conversion import convert_state_dict
    converted, report = convert_state_dict(old, 'mmpose0x')
    assert not report.unmatched and 'head.final_layer.3.weight' in converted
    ours = _ours(dict(type='pose_plugins.ResNet', depth=18, stem_channels=32, base_channels=32),
                 dict(type='pose_plugins.HeatmapHead', **head_args))
    result = ours.load_state_dict(converted, strict=True)  # HeatmapHead renames final_layer.<i> itself
    assert not result.missing_keys
    x = image(1, 3, 64, 48)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), head(backbone(x)), rtol=0, atol=0)


def _tool():
    """What tools/convert_checkpoint.py runs (its main() is the command)."""
    from pose_plugins.apis import convert_checkpoint
    return convert_checkpoint


def test_check_against_config_lists_missing_keys_and_shapes():
    tool = _tool()
    config = str(REPO / 'configs' / 'demo' / 'hrnet_tiny_synthetic.py')
    converted, _ = _convert(PoseHighResolutionNet(), 'pose_hrnet')
    assert tool.check_against_config(config, converted, 'model') == []
    del converted['head.final_layer.bias']
    assert tool.check_against_config(config, converted, 'model') == [
        'missing in the checkpoint: head.final_layer.bias']
    converted['head.final_layer.weight'] = torch.zeros(5, 16, 1, 1)
    assert tool.check_against_config(config, converted, 'model') == [
        'shape mismatch: head.final_layer.weight: checkpoint (5, 16, 1, 1), model (17, 16, 1, 1)']


def test_tool_lists_unknown_keys_and_never_overwrites(tmp_path, monkeypatch, capsys):
    source = PoseHighResolutionNet().state_dict()
    source['extra_branch.weight'] = torch.zeros(3)  # a key no rule knows
    checkpoint = tmp_path / 'pose_hrnet.pth'
    torch.save({'state_dict': {f'module.{k}': v for k, v in source.items()}, 'epoch': 3}, checkpoint)
    out = tmp_path / 'ours.pth'
    tool = _tool()
    monkeypatch.setattr('sys.argv', ['convert_checkpoint.py', str(checkpoint), str(out), '--layout', 'pose_hrnet'])
    assert tool.main() == 1  # an unmatched key: reported, status 1
    assert 'UNMATCHED (no rule of layout pose_hrnet), not converted: extra_branch.weight' in capsys.readouterr().out
    converted = torch.load(out, weights_only=True)
    assert converted['meta']['unmatched_source_keys'] == ['extra_branch.weight']
    assert set(converted['state_dict']) == {f'backbone.{k}' for k in source if k != 'extra_branch.weight'
                                            and not k.startswith('final_layer')} | {'head.final_layer.weight',
                                                                                    'head.final_layer.bias'}
    before = out.read_bytes()
    with pytest.raises(SystemExit):
        tool.main()
    assert 'exists' in capsys.readouterr().err and out.read_bytes() == before
