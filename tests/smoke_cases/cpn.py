"""Smoke cases (see tests/test_smoke_all_modules.py): CPNHead (GlobalNet + RefineNet)."""
import torch

CODEC = dict(type='pose_plugins.CPNBlurHeatmap', input_size=(48, 64), heatmap_size=(12, 16),
             kernel_sizes=(9, 7, 5, 3), blur_kernel_size=5)


def _feats(b=2, channels=(8, 12, 16, 24), h=16, w=12):
    return tuple(torch.rand(b, c, h // 2**i, w // 2**i) for i, c in enumerate(channels))


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    # all L + 1 = 5 outputs stacked, so every GlobalNet predictor and RefineNet must receive a gradient
    'CPNHead': (dict(in_channels=(8, 12, 16, 24), out_channels=17, channels=16, decoder=CODEC),
                lambda m: torch.stack(m(_feats())), (5, 2, 17, 16, 12)),
}
