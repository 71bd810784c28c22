# A small HRNet (widths 16/32/64/128, one module and one block per stage) trained on the synthetic COCO-format
# people of pose_plugins.synthetic, on CPU: the README's demo (`bash scripts/demo.sh`).
# Same recipe as hrnet_w32_coco.py (MSRA heatmaps, MSE with target weights, flip test, the same augmentation),
# scaled to a 2-core machine: 128x96 input, larger lr, short schedule (data, codec, loaders: the _base_ file).
_base_ = ['../_base_/synthetic_demo_128x96.py', '../_base_/hrnet_tiny.py']

# 8 epochs of the 1200-image demo set (75 iterations of 32 crops each): synthetic-val AP 0.700 / 0.714 (seeds 0 / 1;
# 12 epochs gave 0.739 in two thirds more time)
train_cfg = dict(max_epochs=8, val_interval=8)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=8, milestones=[6, 7], gamma=0.1, by_epoch=True),
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
