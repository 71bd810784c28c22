# A small HRNet (widths 16/32/64/128, one module and one block per stage) trained on the synthetic COCO-format
# people of pose_plugins.datasets.synthetic, on CPU: the README's demo (`bash scripts/demo.sh`).
# Same recipe as hrnet_w32_coco.py (MSRA heatmaps, MSE with target weights, flip test, the same augmentation),
# scaled to a 2-core machine: 128x96 input, larger lr, short schedule.
_base_ = ['../hrnet_w32_coco.py']

data_root = 'data/synthetic_coco/'  # tools/make_synthetic_coco.py --out-dir data/synthetic_coco

train_cfg = dict(max_epochs=12, val_interval=12)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=12, milestones=[9, 11], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=4, max_keep_ckpts=1))
custom_hooks = []  # SyncBuffersHook is for multi-GPU runs
randomness = dict(seed=0)

# input 96x128 (w x h) -> 24x32 heatmaps (stride 4); sigma scaled with the heatmap (2 at 48x64)
codec = dict(type='pose_plugins.MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=1.5)

model = dict(
    backbone=dict(
        _delete_=True,
        type='pose_plugins.HRNet',
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(32, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(16, 32)),
            stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1),
                        num_channels=(16, 32, 64)),
            stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                        num_channels=(16, 32, 64, 128)))),
    head=dict(in_channels=16, decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
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
