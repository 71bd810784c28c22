# A small HRNet (widths 16/32/64/128, one module and one block per stage) trained on the synthetic COCO-format
# people of pose_plugins.datasets.synthetic, on CPU: the README's demo (`bash scripts/demo.sh`).
# Same recipe as hrnet_w32_coco.py (MSRA heatmaps, MSE with target weights, flip test, the same augmentation),
# scaled to a 2-core machine: 128x96 input, larger lr, short schedule (data, codec, loaders: the _base_ file).
_base_ = ['../_base_/synthetic_demo_128x96.py', '../_base_/hrnet_tiny.py']

train_cfg = dict(max_epochs=12, val_interval=12)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=12, milestones=[9, 11], gamma=0.1, by_epoch=True),
]
default_hooks = dict(checkpoint=dict(interval=4))

model = dict(
    backbone=_base_.hrnet_tiny,
    head=dict(
        type='pose_plugins.HeatmapHead',
        in_channels=16,  # the highest-resolution branch
        out_channels=17,  # COCO keypoints
        deconv_out_channels=None,  # HRNet predicts at stride 4 already: no deconvolutions
        loss=dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec))
