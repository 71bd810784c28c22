# A small 2-stack Stacked Hourglass trained on the synthetic COCO-format people of pose_plugins.datasets.synthetic,
# on CPU (`python tools/demo.py --config configs/demo/hourglass_tiny_synthetic.py`).
# Same recipe as hourglass_s2_coco.py (MSRA heatmaps, one MSE per stack summed, flip test, the same augmentation),
# scaled to a 2-core machine: 128x96 input, 64-wide order-3 hourglasses, a narrow stem, larger lr, short schedule.
# Cost per iteration (batch 32, one CPU thread): ~0.6 s, vs ~0.5 s for the HRNet demo (0.8 s at 128x128 input, which
# only adds padding around the 3:4 person boxes). The stem's first residual runs at half the input resolution, so
# the stem is kept narrow: stem_channels=(16, 32) instead of the paper's (64, 128).
# Measured (tools/demo.py, 1 CPU thread, on a 2-core machine shared with other jobs): synthetic-val AP 0.596
# (AP50 0.928) after 3 epochs, 177 s of training, 183 s in all with the data already generated (+~20 s to generate
# it). An untrained network scores AP ~0.0.
_base_ = ['../hourglass_s2_coco.py']

data_root = 'data/synthetic_coco/'  # tools/make_synthetic_coco.py --out-dir data/synthetic_coco

# 3 epochs of the 2387 synthetic train people (75 iterations of 32): lr 2e-3, x0.1 for the last epoch.
# (At 128x128, validating every epoch of a longer run gave synthetic-val AP 0.29 after epoch 1, 0.65 after 2.)
max_epochs = 3
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[max_epochs - 1], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
custom_hooks = []  # SyncBuffersHook is for multi-GPU runs
randomness = dict(seed=0)

# input 96x128 (w x h) -> 24x32 heatmaps (stride 4); sigma 1.5 (2 at 64x64 in the full config), as the HRNet demo
codec = dict(type='pose_plugins.MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=1.5)

model = dict(
    # order 3: 32x24 -> 4x3 inside each hourglass; input sides must be multiples of 2**(3 + 2) = 32
    backbone=dict(num_channels=64, order=3, stem_channels=(16, 32)),
    head=dict(decoder=codec))

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
