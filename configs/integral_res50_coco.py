# Integral (soft-argmax) pose regression, ResNet-50, COCO 256x256 (Sun et al., "Integral Human Pose Regression",
# ECCV 2018): ResNet-50 + three 4x4 stride-2 deconvolutions of 256 channels + a 1x1 conv to 17 maps, softmax over
# each map, expected (x, y) regressed with smooth L1; an auxiliary MSE between the softmax maps and normalised
# Gaussians (mmpose's "IPR" recipe).
# mmpose equivalent: body_2d_keypoint/integral_regression/coco/ipr_res50_8xb64-210e_coco-256x256.py
# Target: mmpose reports COCO val2017 AP 0.633 (AR 0.730) starting from its td-hm_res50 COCO heatmap checkpoint
# (init_cfg below) and the AP-56 person boxes.
# UNVERIFIED here: COCO and pretrained weights cannot be downloaded on our machines; this config has only been
# built, checked against mmpose's head (same weights, same coordinates and losses) and trained on synthetic data.
_base_ = ['./_base_/default_runtime.py', './_base_/coco_topdown.py']

# 210 epochs, lr x0.1 at 170 and 200; checked on val every 10 epochs
train_cfg = dict(max_epochs=210, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # 500-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=210, milestones=[170, 200], gamma=0.1, by_epoch=True),
]
# lr 5e-4 is for 8 GPUs x 64 images = 512; `tools/train.py --auto-scale-lr` rescales it for other batch sizes
auto_scale_lr = dict(base_batch_size=512)

# One codec shared by the data preprocessor (encode) and the head (decode): labels = input pixels / 256, and the
# auxiliary targets are 64x64 Gaussians (sigma 2 heatmap pixels) divided by their sums.
codec = dict(type='pose_plugins.IntegralRegressionLabel', input_size=(256, 256), heatmap_size=(64, 64),
             sigma=2.0, normalize=True)

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
    backbone=dict(type='pose_plugins.ResNet', depth=50),
    head=dict(
        type='pose_plugins.IntegralRegressionHead',
        in_channels=2048,  # ResNet-50's last stage
        in_featuremap_size=(8, 8),  # 256 / 32; three x2 deconvs -> 64x64 soft-argmax maps
        num_joints=17,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='pose_plugins.CoordinateL1Loss', use_target_weight=True, smooth_l1_beta=1.0),
        heatmap_loss=dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=True, shift_coords=True, shift_heatmap=True),
    # mmpose starts from its SimpleBaseline R50 COCO checkpoint (td-hm_res50_8xb64-210e_coco-256x192, a
    # download); with a local copy (backbone and deconvs load by name, the 1x1 conv is shaped alike):
    # init_cfg=dict(type='Pretrained', checkpoint='path/to/td-hm_res50_8xb64-210e_coco-256x192.pth'),
)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='pose_plugins.RandomBBoxTransform'),
    dict(type='pose_plugins.TopdownAffine', input_size=codec['input_size']),
    dict(type='pose_plugins.PackTopdownInputs'),  # + transformed keypoints; no targets (see data_preprocessor)
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))  # 64 images per GPU (_base_), x 8 GPUs
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
