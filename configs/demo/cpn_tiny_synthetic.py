# A small CPN (quarter-width ResNet-18 C2..C5, 32-channel GlobalNet / RefineNet) trained on the synthetic
# COCO-format people of pose_plugins.datasets.synthetic, on CPU:
#   python tools/demo.py --config configs/demo/cpn_tiny_synthetic.py
# Same recipe as cpn_res50_coco.py (blurred one-hot targets per level, GlobalNet L2 + RefineNet OHKM, flip test,
# the same augmentation), scaled to a 2-core machine: 128x96 input, narrower head, larger lr, short schedule.
_base_ = ['../cpn_res50_coco.py']

data_root = 'data/synthetic_coco/'  # tools/make_synthetic_coco.py --out-dir data/synthetic_coco

# 6 epochs of the 1200-image demo set (~2400 people, 75 iterations of 32 crops each)
train_cfg = dict(max_epochs=6, val_interval=6)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=6, milestones=[4, 5], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=3, max_keep_ckpts=1))
custom_hooks = []  # SyncBuffersHook is for multi-GPU runs
randomness = dict(seed=0)

# input 96x128 (w x h) -> 24x32 heatmaps (stride 4); kernels and decoding blur halved with the heatmap
# (15/11/9/7 -> OpenCV sigmas 2.6/2.0/1.7/1.4 at 48x64; 7/5/5/3 -> 1.4/1.0/1.0/0.7 here; blur 21 -> 11)
codec = dict(type='pose_plugins.CPNBlurHeatmap', input_size=(96, 128), heatmap_size=(24, 32),
             kernel_sizes=(7, 5, 5, 3), blur_kernel_size=11)

# ResNet-18 at a quarter of its width (stem 16, stages 16/32/64/128, like the HRNet demo's branches) and a
# 32-channel pyramid (bottlenecks 16 wide): 0.054 GMAC per 128x96 crop, 0.77 M parameters. The full-width
# ResNet-18 with a 64-channel head (0.51 GMAC, 11.4 M parameters) measured ~5x slower per training step: ~16 min
# for these 6 epochs on 2 cores instead of ~3.5.
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),  # C2..C5: 16/32/64/128 channels
    head=dict(in_channels=(16, 32, 64, 128), channels=32, decoder=codec))

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
