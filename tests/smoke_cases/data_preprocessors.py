"""Smoke cases (see tests/models/test_smoke_all_modules.py): TopdownTargetDataPreprocessor (fast data path)."""
import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample


def _targets(module: torch.nn.Module) -> torch.Tensor:
    """The heatmaps the preprocessor renders in training for a batch of two 8x8 images with 3 keypoints."""
    samples = []
    for shift in (0.0, 2.0):
        sample = PoseDataSample()
        sample.gt_instances = InstanceData(transformed_keypoints=np.array([[[1.0, 2.0], [4.0 + shift, 4.0],
                                                                            [6.0, 7.0]]], np.float32),
                                           keypoints_visible=np.ones((1, 3), np.float32))
        samples.append(sample)
    data = module(dict(inputs=[torch.zeros(3, 8, 8), torch.zeros(3, 8, 8)], data_samples=samples), training=True)
    # no parameters: a leaf that requires grad lets the shared gradient check run
    return torch.stack([s.gt_fields.heatmaps for s in data['data_samples']]).requires_grad_()


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    'TopdownTargetDataPreprocessor': (
        dict(encoder=dict(type='pose_plugins.MSRAHeatmap', input_size=(8, 8), heatmap_size=(4, 4), sigma=1)),
        _targets, (2, 3, 4, 4)),
}
