# Root-relative 3D pose by integral regression over a depth volume: the PoseNet of 3DMPPE (Moon, Chang, Lee,
# "Camera Distance-aware Top-down Approach for 3D Multi-person Pose Estimation from a Single RGB Image", ICCV 2019):
# ResNet-50 + three 4x4 stride-2 deconvolutions of 256 channels + a 1x1 conv to 17 x 64 channels; softmax over
# each keypoint's 64 x 64 x 64 volume; expected (x, y, z); L1 on all three, z only where the sample has depth.
# Depth: root-relative, +-1000 mm (bbox_3d_shape 2000 mm) mapped to the 64 depth bins.
# Data: a COCO-style keypoint file whose annotations carry `keypoints_3d` (camera mm) and whose images carry
# `camera_param` (f, c), read by pose_plugins.CocoKeypoint3DDataset; root = mean of the hips (COCO has no pelvis).
# Human3.6M or MuCo converted to that layout goes under data/coco3d/; the synthetic generator writes it with
# SyntheticCocoConfig(with_3d=True) (see configs/demo/integral3d_tiny_synthetic.py).
# Metric: MPJPE / PA-MPJPE in mm after back-projection with the ground-truth root depth (3DMPPE's PoseNet protocol).
# 3DMPPE trains 20 epochs with Adam, lr 1e-3 decayed x0.1 at epoch 17, 32 images per GPU.
# UNVERIFIED here: no Human3.6M or pretrained weights can be downloaded on our machines; this config is built and
# tested on synthetic 3D people only.
_base_ = ['./_base_/default_runtime.py']

train_cfg = dict(max_epochs=20, val_interval=5)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # 500-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=20, milestones=[17], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=128)  # 4 GPUs x 32 images
default_hooks = dict(checkpoint=dict(save_best='pose3d/MPJPE', rule='less'))

# (x, y) / 256 and (z_rel / 2000 + 1/2) in [0, 1); no auxiliary heatmaps (3DMPPE uses the L1 loss alone)
codec = dict(type='pose_plugins.IntegralRegressionLabel', input_size=(256, 256), heatmap_size=(64, 64),
             bbox_3d_shape=2000.0, with_heatmaps=False)

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
        type='pose_plugins.ResNet',
        depth=50,
        # 3DMPPE starts from torchvision's ImageNet ResNet-50; with a local copy of that file:
        # init_cfg=dict(type='Pretrained', checkpoint='path/to/resnet50-0676ba61.pth'),
    ),
    head=dict(
        type='pose_plugins.IntegralRegressionHead',
        in_channels=2048,
        in_featuremap_size=(8, 8),  # 256 / 32; three x2 deconvs -> 64x64
        num_joints=17,
        depth_bins=64,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type='pose_plugins.CoordinateL1Loss', use_target_weight=True),
        decoder=codec),
    # flip test mirrors x and swaps left/right; depth is averaged as it is
    test_cfg=dict(flip_test=True, shift_coords=True))

dataset_type = 'pose_plugins.CocoKeypoint3DDataset'
data_mode = 'topdown'
data_root = 'data/coco3d/'
# what RootRelativeMPJPE needs from each sample, beside mmpose's default meta keys
meta_keys = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape', 'img_shape', 'input_size',
             'input_center', 'input_scale', 'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
             'keypoints_3d', 'camera_param')

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),  # mirrors u and swaps left/right rows, depth included
    dict(type='pose_plugins.RandomBBoxTransform'),  # scale and in-plane rotation: root-relative depth is unchanged
    dict(type='pose_plugins.TopdownAffine', input_size=codec['input_size']),  # moves (u, v) only
    dict(type='pose_plugins.PackTopdownInputs'),  # + transformed keypoints; no targets (see data_preprocessor)
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,  # ground-truth person boxes: the metric matches predictions to 3D annotations by box
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='pose_plugins.RootRelativeMPJPE', root_indices=(11, 12))
test_evaluator = val_evaluator
