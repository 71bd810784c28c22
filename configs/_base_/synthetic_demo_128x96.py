# What every CPU demo (configs/demo/*.py) shares: the synthetic COCO-format people of
# pose_plugins.synthetic at a 128x96 input, with the full-size recipes' augmentation, flip test,
# preprocessing and CocoMetric, and the pieces of a short Adam schedule for a 2-core machine. A demo adds its
# backbone + head and its epochs (train_cfg, param_scheduler, checkpoint interval).
# The demos inherit this file instead of their full-size configs (hrnet_w32_coco.py ...): mmengine refuses a key
# defined by two sibling bases, and those configs define data_root, codec, the pipelines and the loaders too.
_base_ = ['./default_runtime.py', './coco_topdown.py']

data_root = 'data/synthetic_coco/'  # tools/make_synthetic_coco.py --out-dir data/synthetic_coco

# lr 2e-3 for batches of 32 (the full-size recipes: 5e-4 for 8 GPUs x 32 or 64); the step schedule is each demo's
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(max_keep_ckpts=1))
custom_hooks = []  # SyncBuffersHook is for multi-GPU runs
randomness = dict(seed=0)

# One codec shared by the data preprocessor (encode) and the heads (decode); CPN's demo replaces it.
# input 96x128 (w x h) -> 24x32 heatmaps (stride 4); sigma scaled with the heatmap (2 at 48x64 in the HRNet and
# SimpleBaseline configs, 2 at 64x64 in the Hourglass ones)
codec = dict(type='pose_plugins.MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=1.5)

model = dict(
    type='TopdownPoseEstimator',
    # the fast data path: the workers pack the transformed keypoints (PackTopdownInputs) and the
    # training batch's targets are rendered here, on the model's device, from the codec. mmpose's path:
    # type='PoseDataPreprocessor' without `encoder`, and GenerateTarget(encoder=codec) + PackPoseInputs as the
    # train_pipeline's last steps (a config that replaces `codec` must replace `encoder` here too)
    data_preprocessor=dict(
        type='pose_plugins.TopdownTargetDataPreprocessor',
        encoder=codec,
        mean=[123.675, 116.28, 103.53],  # ImageNet RGB mean/std in 0-255
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
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
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        # the generator writes the ground-truth boxes in detector-file format (score 1.0)
        bbox_file=data_root + 'person_detection_results/val_gt_boxes.json',
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
