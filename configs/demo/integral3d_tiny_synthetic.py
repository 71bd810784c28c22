# A small 3D integral-regression model (the small HRNet of the CPU demos + a 1x1 conv to 17 x 16 depth bins +
# soft-argmax over each keypoint's 16 x 32 x 24 volume) trained on the synthetic 3D people of
# pose_plugins.synthetic, on CPU:
#   python tools/demo.py --config configs/demo/integral3d_tiny_synthetic.py
# Same recipe as integral3d_res50_256x256.py (root-relative depth in the bins, L1 on x, y, z, flip test, MPJPE /
# PA-MPJPE with the ground-truth root depth), scaled to a 2-core machine: 128x96 input, 16 depth bins.
# Measured (tools/demo.py, 2 cores, 623 s): MPJPE 118.5 mm, PA-MPJPE 100.2, MPJPE-z 86.0 (untrained: 573.6 / 399.8
# / 111.4; a constant depth per joint, what the first epochs predict: ~104). The stride-4 HRNet stands in for the
# ResNet + deconvolutions: with 16 bins over 2000 mm and an earlier, type-relative marker shading, neither a
# quarter-width ResNet-18 + deconvolutions nor this HRNet learned depth in 10-20 epochs (MPJPE-z stayed ~104);
# with the depth-coded marker dots and 62.5-mm bins this HRNet starts learning it around epoch 6.
_base_ = ['../integral3d_res50_256x256.py', '../_base_/hrnet_tiny.py']

data_root = 'data/synthetic_coco3d/'  # tools/demo.py generates it: SyntheticCocoConfig(**synthetic_data)
# camera, 3D joints and the depth-coded marker dots; larger markers (0.05 of the height instead of 0.03) so the
# dots survive the 128x96 crop
synthetic_data = dict(with_3d=True, marker_radius=0.05)

# 12 epochs of the 1200-image demo set (~2400 people, 75 iterations of 32 crops each)
train_cfg = dict(max_epochs=12, val_interval=12)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=12, milestones=[10], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=6, max_keep_ckpts=1))
custom_hooks = []  # SyncBuffersHook is for multi-GPU runs
randomness = dict(seed=0)

# input 96x128 (w x h) -> 24x32 maps (stride 4). The synthetic people's root-relative depths stay within
# +-600 mm (99th percentile 455 mm), so the bins span 1000 mm (16 bins of 62.5 mm) instead of 3DMPPE's 2000 mm:
# coarser bins over the same depths made depth learn later than x and y.
codec = dict(type='pose_plugins.IntegralRegressionLabel', input_size=(96, 128), heatmap_size=(24, 32),
             bbox_3d_shape=1000.0, with_heatmaps=False)

model = dict(
    backbone=dict(_delete_=True, type='pose_plugins.HRNet', extra=_base_.hrnet_tiny['extra']),
    head=dict(
        in_channels=16,  # HRNet's stride-4 branch
        in_featuremap_size=(24, 32),  # already the map size: no deconvolutions
        depth_bins=16,
        deconv_out_channels=None,
        decoder=codec),
    # the fast data path of the full config, with this codec (`_delete_`: replace the 256x256 one, don't merge)
    data_preprocessor=dict(encoder=dict(codec, _delete_=True)))

# the fast data path (targets rendered by the data preprocessor); the same images and targets as mmpose's
# RandomBBoxTransform + TopdownAffine + GenerateTarget + PackPoseInputs for the same random draws
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='pose_plugins.RandomBBoxTransform'),
    dict(type='pose_plugins.TopdownAffine', input_size=codec['input_size']),
    dict(type='pose_plugins.PackTopdownInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs', meta_keys=_base_.meta_keys),
]
train_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, num_workers=2, dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
