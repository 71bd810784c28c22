# CPN, ResNet-50, COCO 256x192 (Chen et al., "Cascaded Pyramid Network for Multi-Person Pose Estimation",
# CVPR 2018): GlobalNet + RefineNet on ResNet-50 C2..C5, blurred one-hot targets (kernels 15/11/9/7), OHKM.
# mmpose 1.x has no CPN config; the closest is body_2d_keypoint/topdown_heatmap/coco/td-hm_mspn50_8xb32-210e_coco-
# 256x192.py (a one-stage MSPN, whose head is CPN-like, with MegviiHeatmap targets).
# Target: the authors' tf-cpn reports 69.7 AP on COCO minival (ResNet-50, 256x192, ImageNet init, its own person
# detector's boxes). UNVERIFIED here: COCO and pretrained weights cannot be downloaded on our machines; this config
# has only been built and run on tiny synthetic inputs (tests/models/heads/test_cpn_head.py).
_base_ = ['./_base_/default_runtime.py', './_base_/coco_topdown.py']

# Schedule: mmpose's MSPN/HRNet-style 210 epochs, lr x0.1 at 170 and 200, 500-iteration warm-up, Adam.
# (tf-cpn: Adam 5e-4, L2 weight decay 1e-5, lr halved every 60 x 60000 iterations, batch 32 per GPU.)
train_cfg = dict(max_epochs=210, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4, weight_decay=1e-5))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=500, start_factor=0.001, by_epoch=False),  # 500-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=210, milestones=[170, 200], gamma=0.1, by_epoch=True),
]
# lr 5e-4 is for 8 GPUs x 64 images = 512; `tools/train.py --auto-scale-lr` rescales it for other batch sizes
auto_scale_lr = dict(base_batch_size=512)

# One codec shared by the data preprocessor (encode, 4 target levels) and the head (decode RefineNet's heatmaps).
# input 192x256 (w x h) -> 48x64 heatmaps (stride 4); tf-cpn's kernels 15, 11, 9, 7 supervise GlobalNet's
# levels from the coarsest (C5) to the finest (C2); RefineNet uses the last (7). Decoding blurs with 21 (tf-cpn).
codec = dict(type='pose_plugins.CPNBlurHeatmap', input_size=(192, 256), heatmap_size=(48, 64),
             kernel_sizes=(15, 11, 9, 7), blur_kernel_size=21)

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
        out_indices=(0, 1, 2, 3),  # C2..C5: 256/512/1024/2048 channels at strides 4/8/16/32
        # to start from ImageNet weights (torchvision's resnet50-0676ba61.pth, same parameter names):
        # init_cfg=dict(type='Pretrained', checkpoint='path/to/resnet50-0676ba61.pth'),
    ),
    head=dict(
        type='pose_plugins.CPNHead',
        in_channels=(256, 512, 1024, 2048),
        out_channels=17,  # COCO keypoints
        channels=256,  # pyramid / RefineNet width (bottlenecks 128 wide)
        loss=[
            # GlobalNet: L2 per level, masked by the keypoint weights, averaged over levels; tf-cpn halves it
            dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True, loss_weight=0.5),
            # RefineNet: online hard keypoint mining, the 8 hardest of 17 keypoints
            dict(type='pose_plugins.KeypointOHKMMSELoss', use_target_weight=True, topk=8),
        ],
        decoder=codec),
    # tf-cpn averages the heatmaps of the image and of its mirror image, without a shift
    test_cfg=dict(flip_test=True, flip_mode='heatmap', shift_heatmap=False))

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
