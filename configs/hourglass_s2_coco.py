# Stacked Hourglass, 2 stacks, COCO 256x256 (Newell, Yang, Deng, ECCV 2016), with intermediate supervision.
# Targets: Newell et al. report PCKh@0.5 90.9 on the MPII test set with 8 stacks (hourglass_s8_coco.py); mmpose's
# hourglass52 (td-hm_hourglass52_8xb32-210e_coco-256x256.py, a *different* CornerNet-style HourglassNet with a
# single stack) reaches COCO val2017 AP 0.726. This network is UNVERIFIED on COCO here (no COCO on our machines);
# it has only been built, trained for a few iterations on synthetic data (tests) and, scaled down, trained on CPU
# (configs/demo/hourglass_tiny_synthetic.py).
# Parameters (measured, K=17 keypoints): 6,562,914 with 2 stacks (3,422,289 with 1, 25,406,664 with 8).
# Recipe: mmpose's hourglass52 COCO config (Adam 5e-4, 210 epochs, lr x0.1 at 170 and 200, 8 GPUs x 32 images,
# flip test with shifted heatmaps). Newell et al. trained on MPII with RMSprop, lr 2.5e-4, dropped by 5 at plateaus.
_base_ = ['./_base_/default_runtime.py', './_base_/coco_topdown.py']

# 210 epochs, lr x0.1 at 170 and 200; checked on val every 10 epochs
train_cfg = dict(max_epochs=210, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # 500-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=210, milestones=[170, 200], gamma=0.1, by_epoch=True),
]
# lr 5e-4 is for 8 GPUs x 32 images = 256; `tools/train.py --auto-scale-lr` rescales it for other batch sizes
# (mmpose's hourglass52 config writes base_batch_size=512, which would halve the lr on 8 x 32)
auto_scale_lr = dict(base_batch_size=256)

# One codec shared by the data preprocessor (encode) and the head (decode).
# input 256x256 -> 64x64 heatmaps (the stem's stride 4); sigma 2 heatmap pixels
codec = dict(type='pose_plugins.MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)

num_stacks = 2
model = dict(
    type='TopdownPoseEstimator',
    # the fast data path: the training batch's targets rendered on the model's device from the codec;
    # mmpose's path: type='PoseDataPreprocessor' without `encoder`, and the train_pipeline's last step replaced by
    # GenerateTarget(encoder=codec) + PackPoseInputs
    data_preprocessor=dict(
        type='pose_plugins.TopdownTargetDataPreprocessor',
        encoder=codec,
        mean=[123.675, 116.28, 103.53],  # ImageNet RGB mean/std in 0-255
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    # the backbone predicts every stack's heatmaps (the links between stacks need them): a tuple of num_stacks
    # (B, 17, 64, 64) tensors
    backbone=dict(
        type='pose_plugins.StackedHourglass',
        num_stacks=num_stacks,
        num_channels=256,
        order=4,  # 64x64 -> 4x4 inside each hourglass; inputs must be multiples of 2**(4 + 2) = 64
        out_channels=17),  # COCO keypoints
    # intermediate supervision: the same MSE on every stack, summed (Newell et al. Sec. 3.3); predicts from the
    # last stack
    head=dict(
        type='pose_plugins.StackedHeatmapHead',
        num_stacks=num_stacks,
        out_channels=17,
        loss=[dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True) for _ in range(num_stacks)],
        decoder=codec),
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='pose_plugins.RandomBBoxTransform'),  # scale 0.75-1.25 (x0.35), rotation +-40 deg (p 0.6)
    dict(type='pose_plugins.TopdownAffine', input_size=codec['input_size']),
    dict(type='pose_plugins.PackTopdownInputs'),  # + transformed keypoints; no targets (see data_preprocessor)
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
