# A small 2-stack Stacked Hourglass trained on the synthetic COCO-format people of pose_plugins.synthetic,
# on CPU (`python tools/demo.py --config configs/demo/hourglass_tiny_synthetic.py`).
# Same recipe as hourglass_s2_coco.py (MSRA heatmaps, one MSE per stack summed, flip test, the same augmentation),
# scaled to a 2-core machine: 128x96 input, 64-wide order-3 hourglasses, a narrow stem, larger lr, short schedule
# (data, codec, loaders: the _base_ file).
# Cost per iteration (batch 32, one CPU thread): ~0.6 s, vs ~0.5 s for the HRNet demo (0.8 s at 128x128 input, which
# only adds padding around the 3:4 person boxes). The stem's first residual runs at half the input resolution, so
# the stem is kept narrow: stem_channels=(16, 32) instead of the paper's (64, 128).
# Measured (tools/demo.py, 1 CPU thread, on a 2-core machine shared with other jobs): synthetic-val AP 0.596
# (AP50 0.928) after 3 epochs, 177 s of training, 183 s in all with the data already generated (+~20 s to generate
# it). An untrained network scores AP ~0.0.
_base_ = ['../_base_/synthetic_demo_128x96.py']

# 3 epochs of the 2387 synthetic train people (75 iterations of 32): lr 2e-3, x0.1 for the last epoch.
# (At 128x128, validating every epoch of a longer run gave synthetic-val AP 0.29 after epoch 1, 0.65 after 2.)
max_epochs = 3
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[max_epochs - 1], gamma=0.1, by_epoch=True),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs))

num_stacks = 2
model = dict(
    # every stack's heatmaps: a tuple of num_stacks (B, 17, 32, 24) tensors
    backbone=dict(
        type='pose_plugins.StackedHourglass',
        num_stacks=num_stacks,
        num_channels=64,
        order=3,  # 32x24 -> 4x3 inside each hourglass; input sides must be multiples of 2**(3 + 2) = 32
        stem_channels=(16, 32),
        out_channels=17),  # COCO keypoints
    # intermediate supervision: the same MSE on every stack, summed; predicts from the last stack
    head=dict(
        type='pose_plugins.StackedHeatmapHead',
        num_stacks=num_stacks,
        out_channels=17,
        loss=[dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True) for _ in range(num_stacks)],
        decoder=_base_.codec))
