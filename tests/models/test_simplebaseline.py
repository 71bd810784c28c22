"""SimpleBaseline (ResNet + deconv head): our configs build the same model as mmpose's td-hm_res* configs, whose
state dict loads with strict=True and gives mmpose's heatmaps, predictions and losses; the configs carry the
published recipe."""
import copy
from pathlib import Path

import mmpose
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData, PixelData
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from conftest import REPO, randomize_norms
import pose_plugins  # noqa: F401
from pose_plugins.models.backbones.resnet import ResNet
from pose_plugins.models.heads.heatmap_head import HeatmapHead

MMPOSE_CONFIGS = Path(mmpose.__file__).parent / '.mim' / 'configs' / 'body_2d_keypoint' / 'topdown_heatmap' / 'coco'
FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]  # COCO left <-> right
# A small crop keeps the full-width ResNet-50 fast: 32x64 (w x h, sides multiples of the stride 32) -> 1x2
# features -> 8x16 heatmaps.
SMALL_CODEC = dict(input_size=(32, 64), heatmap_size=(8, 16), sigma=2)

PAIRS = {  # our config -> mmpose's config of the same model
    50: ('simplebaseline_res50_coco.py', 'td-hm_res50_8xb64-210e_coco-256x192.py'),
    101: ('simplebaseline_res101_coco.py', 'td-hm_res101_8xb64-210e_coco-256x192.py'),
    152: ('simplebaseline_res152_coco.py', 'td-hm_res152_8xb32-210e_coco-256x192.py'),
}


def _load_configs(depth: int) -> tuple:
    ours, theirs = PAIRS[depth]
    return Config.fromfile(str(REPO / 'configs' / ours)), Config.fromfile(str(MMPOSE_CONFIGS / theirs))


def _build(model_cfg: dict, small_codec: bool = True) -> torch.nn.Module:
    """Build a TopdownPoseEstimator (default scope mmpose), with the small codec and no pretrained download."""
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg['backbone'].pop('init_cfg', None)  # mmpose's 'torchvision://resnet50' needs a download
    if small_codec:
        model_cfg['head']['decoder'].update(SMALL_CODEC)
    init_default_scope('mmpose')
    return MODELS.build(model_cfg)


def _randomize(model: torch.nn.Module, seed: int) -> None:
    """Random weights everywhere (incl. BN stats) at scales that keep the deep net's activations finite."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() > 1:
                fan_in = param[0].numel() if 'deconv' not in name else param.shape[0] * param[0, 0].numel()
                param.copy_(torch.randn(param.shape, generator=gen) * (1.0 / fan_in)**0.5)
    randomize_norms(model, seed + 1)


def _data_samples(batch_size: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(batch_size):
        sample = PoseDataSample(metainfo=dict(
            flip_indices=FLIP_INDICES, input_size=SMALL_CODEC['input_size'],
            input_center=rng.uniform(100, 200, 2).astype(np.float32),
            input_scale=rng.uniform(100, 200, 2).astype(np.float32)))
        sample.gt_instances = InstanceData(bboxes=np.zeros((1, 4), np.float32), bbox_scores=np.ones(1, np.float32))
        samples.append(sample)
    return samples


@pytest.fixture(scope='module')
def res50_pair():
    """(ours, mmpose's) ResNet-50 SimpleBaseline, built from the two configs, mmpose's random state loaded."""
    ours_cfg, mmpose_cfg = _load_configs(50)
    torch.manual_seed(0)
    reference = _build(mmpose_cfg.model)
    _randomize(reference, seed=1)
    ours = _build(ours_cfg.model)
    ours.load_state_dict(reference.state_dict(), strict=True)
    return ours.eval(), reference.eval()


def test_res50_config_builds_our_classes_with_mmposes_keys(res50_pair):
    ours, reference = res50_pair
    assert type(ours.backbone) is ResNet and ours.backbone.depth == 50
    assert type(ours.head) is HeatmapHead
    assert type(reference.backbone).__module__.startswith('mmpose.')
    assert list(ours.state_dict()) == list(reference.state_dict())
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert shapes['head.deconv_layers.0.weight'] == (2048, 256, 4, 4)
    assert shapes['head.deconv_layers.6.weight'] == (256, 256, 4, 4)
    assert shapes['head.final_layer.weight'] == (17, 256, 1, 1)
    # ResNet-50 23_508_032 + deconvs 2048*256*16 + 2*256*256*16 + BN 3*2*256 + final conv 256*17 + 17:
    # the 34.0M of the SimpleBaseline paper (Table 2)
    assert sum(p.numel() for p in ours.parameters()) == 23_508_032 + 10_485_760 + 1_536 + 4_369 == 33_999_697


def test_res50_forward_heatmaps_match_mmpose(res50_pair):
    ours, reference = res50_pair
    x = torch.randn(2, 3, 64, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = reference(x, None, mode='tensor')
        actual = ours(x, None, mode='tensor')
    assert actual.shape == expected.shape == (2, 17, 16, 8)
    assert expected.abs().max() > 1e-3  # not a degenerate comparison
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)


def test_res50_predict_with_flip_test_matches_mmpose(res50_pair):
    ours, reference = res50_pair
    assert ours.test_cfg == dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True)
    x = torch.randn(2, 3, 64, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = reference(x, _data_samples(2, seed=4), mode='predict')
        actual = ours(x, _data_samples(2, seed=4), mode='predict')
    for exp, act in zip(expected, actual):
        np.testing.assert_allclose(act.pred_instances.keypoints, exp.pred_instances.keypoints, rtol=0, atol=1e-4)
        np.testing.assert_allclose(act.pred_instances.keypoint_scores, exp.pred_instances.keypoint_scores,
                                   rtol=0, atol=1e-5)


def test_res50_training_loss_matches_mmpose(res50_pair):
    ours, reference = res50_pair
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, 64, 32, generator=gen)
    samples = _data_samples(2, seed=6)
    for sample in samples:
        sample.gt_fields = PixelData(heatmaps=torch.rand(17, 16, 8, generator=gen))
        sample.gt_instance_labels = InstanceData(keypoint_weights=(torch.rand(1, 17, generator=gen) > 0.2).float())
    ours, reference = copy.deepcopy(ours).train(), copy.deepcopy(reference).train()
    expected = reference(x, copy.deepcopy(samples), mode='loss')
    actual = ours(x, copy.deepcopy(samples), mode='loss')
    assert set(actual) == set(expected) == {'loss_kpt', 'acc_pose'}
    for key in expected:
        torch.testing.assert_close(actual[key].float(), expected[key].float(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('depth', [101, 152])
def test_deeper_configs_match_mmposes_keys_and_shapes(depth):
    ours_cfg, mmpose_cfg = _load_configs(depth)
    assert ours_cfg.model.backbone == dict(type='pose_plugins.ResNet', depth=depth)
    ours, reference = _build(ours_cfg.model), _build(mmpose_cfg.model)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    ours.load_state_dict(reference.state_dict(), strict=True)
    assert ours_cfg.train_dataloader.batch_size == mmpose_cfg.train_dataloader.batch_size


def _as_mmpose_steps(pipeline) -> list:
    """A pipeline's steps under mmpose's names (``pose_plugins.TopdownAffine`` -> ``TopdownAffine``: ours are
    faster, same outputs), without target generation and packing, and without codec arguments."""
    skipped = ('GenerateTarget', 'PackPoseInputs', 'pose_plugins.PackTopdownInputs')
    return [{k: v for k, v in dict(step, type=step['type'].removeprefix('pose_plugins.')).items() if k != 'encoder'}
            for step in pipeline if step['type'] not in skipped]


@pytest.mark.parametrize('depth', [50, 101, 152])
def test_recipe_equals_mmposes(depth):
    ours, theirs = _load_configs(depth)
    assert ours.train_cfg.max_epochs == theirs.train_cfg.max_epochs == 210
    assert ours.train_cfg.val_interval == theirs.train_cfg.val_interval
    assert ours.optim_wrapper.optimizer == theirs.optim_wrapper.optimizer == dict(type='Adam', lr=5e-4)
    assert ours.param_scheduler == theirs.param_scheduler
    assert ours.auto_scale_lr == theirs.auto_scale_lr == dict(base_batch_size=512)
    assert ours.model.test_cfg == theirs.model.test_cfg
    # ours: mmpose's preprocessing + the training targets rendered on the model's device (the fast data path)
    preprocessor = dict(ours.model.data_preprocessor)
    assert preprocessor.pop('type') == 'pose_plugins.TopdownTargetDataPreprocessor'
    assert preprocessor.pop('encoder') == ours.codec
    assert dict(preprocessor, type='PoseDataPreprocessor') == theirs.model.data_preprocessor
    codec = {k: v for k, v in ours.codec.items() if k != 'type'}
    assert ours.codec['type'] == 'pose_plugins.MSRAHeatmap'
    assert codec == {k: v for k, v in theirs.codec.items() if k != 'type'}
    assert ours.model.head.decoder == ours.codec
    head = {k: v for k, v in ours.model.head.items() if k not in ('type', 'loss', 'decoder')}
    assert head == dict(in_channels=2048, out_channels=17, deconv_out_channels=(256, 256, 256),
                        deconv_kernel_sizes=(4, 4, 4))
    assert ours.model.head.loss == dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True)
    for split in ('train', 'val'):
        ours_loader, their_loader = ours[f'{split}_dataloader'], theirs[f'{split}_dataloader']
        assert ours_loader.batch_size == their_loader.batch_size
        # the same steps under mmpose's names, less target generation and packing (the data preprocessor
        # renders the targets; our packing keeps the transformed keypoints for it)
        assert _as_mmpose_steps(ours_loader.dataset.pipeline) == _as_mmpose_steps(their_loader.dataset.pipeline)
        assert ours_loader.dataset.pipeline[-1]['type'] == ('pose_plugins.PackTopdownInputs' if split == 'train'
                                                            else 'PackPoseInputs')
        # our dataset is mmpose's CocoDataset with checked data; everything else is mmpose's
        assert (ours_loader.dataset.type, their_loader.dataset.type) == ('pose_plugins.CocoKeypointDataset',
                                                                         'CocoDataset')
        for key in ('data_root', 'data_mode', 'ann_file', 'data_prefix'):
            assert ours_loader.dataset[key] == their_loader.dataset[key], (split, key)
    assert ours.val_dataloader.dataset.bbox_file == theirs.val_dataloader.dataset.bbox_file
    assert ours.val_evaluator == theirs.val_evaluator
