"""The fast training data path: PackTopdownInputs + TopdownTargetDataPreprocessor give the targets of
GenerateTarget + PackPoseInputs, for every codec of our configs, and a training step runs through it."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

import pose_plugins  # noqa: F401
from conftest import REPO

# Every codec kind: MSRA (HRNet, SimpleBaseline, Hourglass), CPN's 4 blur levels, integral labels (+ heatmaps).
CODECS = {
    'msra': dict(type='pose_plugins.MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2),
    'msra-dark': dict(type='pose_plugins.MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2,
                      unbiased=True),
    'cpn': dict(type='pose_plugins.CPNBlurHeatmap', input_size=(48, 64), heatmap_size=(12, 16),
                kernel_sizes=(7, 5, 3)),
    'integral': dict(type='pose_plugins.IntegralRegressionLabel', input_size=(48, 64), heatmap_size=(12, 16)),
}


def _pipeline(codec: dict, fast: bool, affine: str = 'pose_plugins.TopdownAffine') -> list:
    head = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale'), dict(type='RandomFlip', direction='horizontal'),
            dict(type='pose_plugins.RandomBBoxTransform'), dict(type=affine, input_size=codec['input_size'])]
    if fast:
        return head + [dict(type='pose_plugins.PackTopdownInputs')]
    return head + [dict(type='GenerateTarget', encoder=codec), dict(type='PackPoseInputs')]


def _batch(root, codec: dict, fast: bool, n: int = 6, affine: str = 'pose_plugins.TopdownAffine') -> dict:
    """The first ``n`` samples through the fast or mmpose's pipeline, same numpy seed (the same augmentation)."""
    init_default_scope('mmpose')
    dataset = DATASETS.build(dict(type='pose_plugins.CocoKeypointDataset', data_root=str(root), data_mode='topdown',
                                  ann_file='annotations/person_keypoints_train2017.json',
                                  data_prefix=dict(img='train2017/'), pipeline=_pipeline(codec, fast, affine)))
    np.random.seed(3)
    return pseudo_collate([dataset[i] for i in range(n)])


@pytest.mark.parametrize('name', sorted(CODECS))
def test_same_targets_as_generate_target(tiny_coco, name):
    codec = CODECS[name]
    preprocessor = MODELS.build(dict(type='pose_plugins.TopdownTargetDataPreprocessor', encoder=codec))
    fast = preprocessor(_batch(tiny_coco, codec, fast=True), training=True)
    slow = preprocessor(_batch(tiny_coco, codec, fast=False), training=True)  # has targets: left as they are
    assert torch.equal(fast['inputs'], slow['inputs'])  # same images (same draws, same warps)
    from pose_plugins.models.heads.base_pose_head import BasePoseHead
    got, want = (BasePoseHead.gather_targets(d['data_samples']) for d in (fast, slow))
    assert sorted(got) == sorted(want)
    for key in want:
        assert got[key].shape == want[key].shape, key
        # heatmaps: the batched encode is the per-sample one to float32 rounding (< 1e-6, analysis in
        # pose_plugins/codecs/utils/batch_encode.py); labels and weights exactly
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=1e-6 if key == 'heatmaps' else 0)
    # mmpose's heads read the per-sample fields: the same types as PackPoseInputs'
    assert type(fast['data_samples'][0].gt_fields) is type(slow['data_samples'][0].gt_fields)


def test_validation_batches_and_samples_with_targets_are_left_alone(tiny_coco):
    codec = CODECS['msra']
    preprocessor = MODELS.build(dict(type='pose_plugins.TopdownTargetDataPreprocessor', encoder=codec))
    out = preprocessor(_batch(tiny_coco, codec, fast=True, n=2), training=False)
    assert out['data_samples'][0].get('gt_fields') is None
    with pytest.raises(ValueError, match='no batch_encode'):
        MODELS.build(dict(type='pose_plugins.TopdownTargetDataPreprocessor',
                          encoder=dict(type='MSRAHeatmap', input_size=(48, 64), heatmap_size=(12, 16), sigma=2)))


@pytest.mark.parametrize('config', ['configs/demo/hrnet_tiny_synthetic.py', 'configs/cpn_res50_coco.py',
                                    'configs/hrnet_w32_coco_fast_gpu.py'])
def test_configs_train_through_the_fast_path(tiny_coco, config):
    """One training step of a config's own model and data path, shrunk to a tiny input (CPN: multi-level; the
    fast GPU config: whole images to the preprocessor, which crops them)."""
    cfg = Config.fromfile(str(REPO / config))
    init_default_scope('mmpose')
    assert cfg.model.data_preprocessor.type == 'pose_plugins.TopdownTargetDataPreprocessor'
    assert [step['type'] for step in cfg.train_dataloader.dataset.pipeline][-1] == 'pose_plugins.PackTopdownInputs'
    if 'cpn' in config:  # a ResNet-50 CPN is too big for a unit test: its head on the CPN demo's thin ResNet-18
        cfg.model.backbone.update(depth=18, stem_channels=16, base_channels=16)
        cfg.model.head.update(in_channels=(16, 32, 64, 128), channels=32)
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=str(tiny_coco), ann_file='annotations/person_keypoints_train2017.json',
                       data_prefix=dict(img='train2017/'))
    dataset_cfg.pop('bbox_file', None)
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    batch = pseudo_collate([dataset[i] for i in range(2)])
    crops_on_device = 'TopdownAffineMatrix' in str(cfg.train_dataloader.dataset.pipeline)
    assert crops_on_device == ('fast_gpu' in config)
    if crops_on_device:
        assert batch['inputs'][0].shape[1:] != tuple(reversed(cfg.codec['input_size']))
    losses = model.train_step(batch, _Wrapper(optim))
    assert 'loss_kpt' in losses and torch.isfinite(losses['loss_kpt'])


class _Wrapper:
    """The least of an mmengine OptimWrapper that ``BaseModel.train_step`` calls."""

    def __init__(self, optim: torch.optim.Optimizer) -> None:
        self.optim = optim

    def optim_context(self, model):
        import contextlib
        return contextlib.nullcontext()

    def update_params(self, loss: torch.Tensor) -> None:
        loss.backward()
        self.optim.step()
        self.optim.zero_grad()


@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
def test_one_copy_batch_equals_pose_data_preprocessor(tiny_coco, training, monkeypatch):
    """The batched path (one stacked uint8 copy, batched BGR -> RGB and normalisation; taken on a GPU) gives
    mmpose's per-image ``PoseDataPreprocessor`` values bit for bit, and its metainfo."""
    import pose_plugins.models.data_preprocessors.topdown_target_data_preprocessor as module
    codec = CODECS['msra']
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True)
    ours = MODELS.build(dict(type='pose_plugins.TopdownTargetDataPreprocessor', encoder=codec, **norm))
    theirs = MODELS.build(dict(type='PoseDataPreprocessor', **norm))
    batched = []
    monkeypatch.setattr(module, 'pad_to_batch', lambda images: batched.append(len(images)) or
                        module.torch.stack(list(images)))
    assert not ours._batch_on_device()  # a CPU keeps the image-by-image path
    monkeypatch.setattr(type(ours), '_batch_on_device', lambda self: True)  # the GPU's path, on the CPU
    got = ours(_batch(tiny_coco, codec, fast=True, n=4), training=training)
    want = theirs(_batch(tiny_coco, codec, fast=True, n=4), training=training)
    assert batched == [4]
    assert torch.equal(got['inputs'], want['inputs'])
    for a, b in zip(got['data_samples'], want['data_samples']):
        assert a.metainfo['batch_input_shape'] == b.metainfo['batch_input_shape']
        assert a.metainfo['pad_shape'] == b.metainfo['pad_shape']


def test_images_of_different_sizes_take_pose_data_preprocessors_padding():
    from mmpose.structures import PoseDataSample
    ours = MODELS.build(dict(type='pose_plugins.TopdownTargetDataPreprocessor', encoder=CODECS['msra']))
    theirs = MODELS.build(dict(type='PoseDataPreprocessor'))
    g = torch.Generator().manual_seed(0)

    def batch() -> dict:
        images = [torch.randint(0, 256, (3, 8, 6), generator=g, dtype=torch.uint8),
                  torch.randint(0, 256, (3, 5, 7), generator=g, dtype=torch.uint8)]
        return dict(inputs=images, data_samples=[PoseDataSample(), PoseDataSample()])
    g.manual_seed(0)
    got = ours(batch())
    g.manual_seed(0)
    want = theirs(batch())
    assert got['inputs'].shape == (2, 3, 8, 7) and torch.equal(got['inputs'], want['inputs'])


def test_crops_on_the_device_give_the_workers_crops_and_the_same_targets(tiny_coco):
    """``TopdownAffineMatrix`` in the pipeline: the preprocessor crops the whole images batched, within
    OpenCV's fixed-point bound (at most 9 grey levels: tests/models/test_batch_warp.py), with the same targets."""
    codec = CODECS['msra']
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True)
    preprocessor = MODELS.build(dict(type='pose_plugins.TopdownTargetDataPreprocessor', encoder=codec, **norm))
    on_device = _batch(tiny_coco, codec, fast=True, affine='pose_plugins.TopdownAffineMatrix')
    assert on_device['inputs'][0].shape[1:] != (64, 48)  # whole images travel
    got = preprocessor(on_device, training=True)
    want = preprocessor(_batch(tiny_coco, codec, fast=True), training=True)
    std = torch.tensor(norm['std']).view(1, 3, 1, 1)
    grey_levels = ((got['inputs'] - want['inputs']) * std).abs()
    assert got['inputs'].shape == want['inputs'].shape
    assert grey_levels.max() <= 9 + 1e-3  # float32 normalisation of values <= 255: < 1e-3
    # the unequal share is bounded by mean min(1, e) (tests/models/test_batch_warp.py), well under a half on images
    # of flat regions and edges such as these; a misplaced crop leaves most pixels unequal
    assert (grey_levels < 0.5).float().mean() > 0.5
    from pose_plugins.models.heads.base_pose_head import BasePoseHead
    got_targets, want_targets = (BasePoseHead.gather_targets(d['data_samples']) for d in (got, want))
    for key in want_targets:
        assert torch.equal(got_targets[key], want_targets[key]), key
    assert got['data_samples'][0].metainfo['pad_shape'] == (64, 48)
