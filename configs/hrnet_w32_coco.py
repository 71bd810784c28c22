# HRNet-W32, COCO 256x192 (Sun et al., CVPR 2019), the published recipe.
# mmpose equivalent: body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192.py
# Target: mmpose reports COCO val2017 AP 0.749 (AR 0.804) with ImageNet-pretrained init and the AP-56 person boxes.
# UNVERIFIED here: COCO and pretrained weights cannot be downloaded on our machines; this config has only been
# built, trained and evaluated for a few iterations on synthetic data (tests/configs).
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

# One codec shared by the data preprocessor (encode) and the head (decode).
# input 192x256 (w x h) -> 48x64 heatmaps (stride 4); sigma 2 heatmap pixels
codec = dict(type='pose_plugins.MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

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
    backbone=dict(
        type='pose_plugins.HRNet',
        arch='w32',
        # to start from ImageNet weights (mmpose's hrnet_w32-36af842e.pth, same parameter names):
        # init_cfg=dict(type='Pretrained', checkpoint='path/to/hrnet_w32-36af842e.pth'),
    ),
    head=dict(
        type='pose_plugins.HeatmapHead',
        in_channels=32,  # HRNet-W32's highest-resolution branch
        out_channels=17,  # COCO keypoints
        deconv_out_channels=None,  # HRNet predicts at stride 4 already: no deconvolutions
        loss=dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True),
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = val_dataloader
