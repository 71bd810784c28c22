"""BasePoseHead: a new head from the base in a few lines predicts, flips, decodes and scores exactly as
HeatmapHead; target gathering for single- and multi-level data; errors."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.structures import MultilevelPixelData, PoseDataSample
from torch import nn

from conftest import assert_same_predictions, randomize_state
from pose_plugins.models.heads import BasePoseHead, HeatmapHead
from pose_plugins.models.losses.keypoint_mse_loss import KeypointMSELoss

B, C, K, H, W = 3, 6, 4, 8, 6
FLIP_INDICES = [1, 0, 3, 2]
CODEC = dict(type='pose_plugins.MSRAHeatmap', input_size=(W * 4, H * 4), heatmap_size=(W, H), sigma=2)


class TinyHead(BasePoseHead):
    """The smallest useful head: one 1x1 conv to K heatmaps and an MSE loss."""

    def __init__(self, *, in_channels: int, out_channels: int, decoder: dict = None) -> None:
        super().__init__(decoder=decoder)
        self.final_layer = self.build_final_layer(in_channels, out_channels)
        self.loss_module = KeypointMSELoss(use_target_weight=True)

    def forward(self, feats):
        return self.final_layer(feats[-1])

    def loss_terms(self, outputs, targets):
        return dict(loss_kpt=self.loss_module(outputs, targets['heatmaps'], targets['keypoint_weights']))


def _pair():
    reference = HeatmapHead(in_channels=C, out_channels=K, deconv_out_channels=None, decoder=CODEC)
    randomize_state(reference, 0, std=0.5)
    tiny = TinyHead(in_channels=C, out_channels=K, decoder=CODEC)
    tiny.load_state_dict(reference.state_dict(), strict=True)  # the same parameter names: final_layer.*
    return reference.eval(), tiny.eval()


def _samples(levels: int = 0):
    gen = torch.Generator().manual_seed(1)
    samples = []
    for i in range(B):
        sample = PoseDataSample(metainfo=dict(flip_indices=FLIP_INDICES, input_size=(W * 4, H * 4)))
        weights = torch.ones(1, K)
        weights[0, i] = 0.0
        if levels:
            sample.gt_fields = MultilevelPixelData(
                heatmaps=[torch.rand(K, H, W, generator=gen) for _ in range(levels)])
            sample.gt_instance_labels = InstanceData(keypoint_weights=weights.expand(levels, 1, K).clone())
        else:
            sample.gt_fields = PixelData(heatmaps=torch.rand(K, H, W, generator=gen))
            sample.gt_instance_labels = InstanceData(keypoint_weights=weights,
                                                     keypoint_labels=torch.rand(1, K, 3, generator=gen))
        samples.append(sample)
    return samples


def _feats(seed: int):
    return (torch.randn(B, C, H, W, generator=torch.Generator().manual_seed(seed)), )


@pytest.mark.parametrize('test_cfg', [None, dict(flip_test=True), dict(flip_test=True, shift_heatmap=True),
                                      dict(output_heatmaps=True)], ids=['plain', 'flip', 'flip-shift', 'maps'])
def test_minimal_head_predicts_like_heatmap_head(test_cfg):
    reference, tiny = _pair()
    flip = bool(test_cfg and test_cfg.get('flip_test'))
    feats = [_feats(0), _feats(1)] if flip else _feats(0)
    want, got = reference.predict(feats, _samples(), test_cfg), tiny.predict(feats, _samples(), test_cfg)
    assert_same_predictions(got, want, batch=B, num_keypoints=K, rtol=0, atol=0)


def test_minimal_head_loss_and_accuracy_like_heatmap_head():
    reference, tiny = _pair()
    want, got = reference.loss(_feats(0), _samples()), tiny.loss(_feats(0), _samples())
    assert set(got) == {'loss_kpt', 'acc_pose'}
    for key in got:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)
    assert set(tiny.loss(_feats(0), _samples(), dict(compute_acc=False))) == {'loss_kpt'}


def test_init_is_the_default_head_init():
    head = TinyHead(in_channels=C, out_channels=K)
    head.init_weights()
    assert abs(head.final_layer.weight.std().item() - 0.001) < 0.0005  # Normal(std=0.001), 24 weights
    assert isinstance(TinyHead.build_final_layer(C, K, None), nn.Identity)
    layer = TinyHead.build_final_layer(C, K, dict(kernel_size=3, padding=1))
    assert layer.kernel_size == (3, 3) and layer.padding == (1, 1)


def test_gather_targets_single_and_multilevel():
    targets = BasePoseHead.gather_targets(_samples())
    assert targets['heatmaps'].shape == (B, K, H, W)
    assert targets['keypoint_weights'].shape == (B, K) and targets['keypoint_labels'].shape == (B, K, 3)
    np.testing.assert_array_equal(targets['keypoint_weights'].numpy(), 1 - np.eye(B, K))
    multi = BasePoseHead.gather_targets(_samples(levels=2))
    assert multi['heatmaps'].shape == (B, 2, K, H, W) and multi['keypoint_weights'].shape == (2, B, K)


def test_errors():
    _, tiny = _pair()
    with pytest.raises(ValueError, match=r'flip_test expects feats = \[feats, flipped_feats\], got tuple'):
        tiny.predict(_feats(0), _samples(), dict(flip_test=True))
    with pytest.raises(RuntimeError, match='decoder has not been set'):
        TinyHead(in_channels=C, out_channels=K).predict(_feats(0), _samples())
