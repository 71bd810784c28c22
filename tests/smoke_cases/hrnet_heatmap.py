"""Smoke cases (see tests/test_smoke_all_modules.py): HRNet, HeatmapHead and the heatmap losses."""
import torch

TINY_HRNET = dict(
    stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(8, )),
    stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(4, 8)),
    stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(4, 8, 16)),
    stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                num_channels=(4, 8, 16, 32)))
CODEC = dict(type='pose_plugins.MSRAHeatmap', input_size=(32, 32), heatmap_size=(16, 16), sigma=2)


def _heatmaps(b=2, k=17, h=16, w=16):
    return torch.rand(b, k, h, w, requires_grad=True)


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    'HRNet': (dict(extra=TINY_HRNET), lambda m: m(torch.rand(2, 3, 64, 48))[0], (2, 4, 16, 12)),
    'HeatmapHead': (dict(in_channels=8, out_channels=17, deconv_out_channels=(8, ), deconv_kernel_sizes=(4, ),
                         decoder=CODEC),
                    lambda m: m((torch.rand(2, 8, 8, 8), )), (2, 17, 16, 16)),
    'KeypointMSELoss': (dict(use_target_weight=True),
                        lambda m: m(_heatmaps(), torch.rand(2, 17, 16, 16), torch.rand(2, 17)), ()),
    'KeypointOHKMMSELoss': (dict(use_target_weight=True, topk=8),
                            lambda m: m(_heatmaps(), torch.rand(2, 17, 16, 16), torch.rand(2, 17)), ()),
}
