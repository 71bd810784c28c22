"""Smoke cases (see tests/test_smoke_all_modules.py): StackedHourglass and StackedHeatmapHead."""
import torch

CODEC = dict(type='pose_plugins.MSRAHeatmap', input_size=(32, 32), heatmap_size=(8, 8), sigma=2)


def _stack_heatmaps(num_stacks=2, b=2, k=17, h=8, w=8):
    return tuple(torch.rand(b, k, h, w, requires_grad=True) for _ in range(num_stacks))


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    # every stack's heatmaps, stacked: (S, B, K, H / 4, W / 4)
    'StackedHourglass': (dict(out_channels=17, num_stacks=2, num_channels=8, order=2, stem_channels=(4, 8)),
                         lambda m: torch.stack(m(torch.rand(2, 3, 32, 32))), (2, 2, 17, 8, 8)),
    # no parameters: forward checks and returns every stack's heatmaps
    'StackedHeatmapHead': (dict(num_stacks=2, out_channels=17, decoder=CODEC),
                           lambda m: torch.stack(m(_stack_heatmaps())), (2, 2, 17, 8, 8)),
}
