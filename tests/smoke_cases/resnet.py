"""Smoke cases (see tests/models/test_smoke_all_modules.py): ResNet (SimpleBaseline / CPN backbone)."""
import torch

# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    # small-width ResNet-50 (Bottleneck) with mmpose's ResNetV1d stem and projections and caffe-style strides (the
    # classic stem is covered by tests/models/backbones/test_resnet.py's gradient test); every stage returned so
    # every parameter gets a gradient
    'ResNet': (dict(depth=50, stem_channels=8, base_channels=4, out_indices=(0, 1, 2, 3), zero_init_residual=False,
                    deep_stem=True, avg_down=True, style='caffe'),
               lambda m: torch.cat([f.flatten(1) for f in m(torch.rand(2, 3, 64, 48))], dim=1),
               (2, 16 * 16 * 12 + 32 * 8 * 6 + 64 * 4 * 3 + 128 * 2 * 2)),
}
