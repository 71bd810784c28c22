"""Smoke cases (see tests/test_smoke_all_modules.py): IntegralRegressionHead (2D and 3D), CoordinateL1Loss and
KeypointJSDivergenceLoss."""
import torch


def _coords(b=2, k=17, d=3):
    return torch.rand(b, k, d, requires_grad=True)


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    # 3D: 4 depth bins; coordinates and the depth-summed heatmaps both feed the gradient check
    'IntegralRegressionHead': (
        dict(in_channels=8, in_featuremap_size=(3, 4), num_joints=17, depth_bins=4, deconv_out_channels=(8, 8),
             deconv_kernel_sizes=(4, 4), debias=True, beta=2.0),
        lambda m: (lambda out: torch.cat([out[0].flatten(1), out[1].flatten(1)], 1))(m((torch.rand(2, 8, 4, 3), ))),
        (2, 17 * 3 + 17 * 16 * 12)),
    'KeypointJSDivergenceLoss': (dict(use_target_weight=True),
                                 lambda m: m(torch.softmax(torch.rand(2, 17, 48, requires_grad=True), -1).reshape(
                                     2, 17, 8, 6), torch.softmax(torch.rand(2, 17, 48), -1).reshape(2, 17, 8, 6),
                                             torch.rand(2, 17)), ()),
    'CoordinateL1Loss': (dict(use_target_weight=True, smooth_l1_beta=0.5),
                         lambda m: m(_coords(), torch.rand(2, 17, 3), torch.rand(2, 17), torch.rand(2, 17)), ()),
}
