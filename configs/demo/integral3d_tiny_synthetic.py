# A small 3DMPPE-style PoseNet (quarter-width ResNet-18 + three 64-channel deconvolutions + soft-argmax over a
# 16 x 32 x 24 volume per keypoint) trained on the synthetic 3D people of pose_plugins.datasets.synthetic, on CPU:
#   python tools/demo.py --config configs/demo/integral3d_tiny_synthetic.py
# Same recipe as integral3d_res50_256x256.py (root-relative depth +-1000 mm in the bins, L1 on x, y, z, flip test,
# MPJPE / PA-MPJPE with the ground-truth root depth), scaled to a 2-core machine: 128x96 input, 16 depth bins.
_base_ = ['../integral3d_res50_256x256.py']

data_root = 'data/synthetic_coco3d/'  # tools/demo.py generates it: SyntheticCocoConfig(**synthetic_data)
synthetic_data = dict(with_3d=True)  # read by tools/demo.py (camera, 3D joints, depth-shaded markers)

# 10 epochs of the 1200-image demo set (~2400 people, 75 iterations of 32 crops each)
train_cfg = dict(max_epochs=10, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=10, milestones=[8], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=5, max_keep_ckpts=1))
custom_hooks = []  # SyncBuffersHook is for multi-GPU runs
randomness = dict(seed=0)

# input 96x128 (w x h) -> 24x32 maps (stride 4); 16 depth bins of 125 mm over +-1000 mm
codec = dict(type='pose_plugins.IntegralRegressionLabel', input_size=(96, 128), heatmap_size=(24, 32),
             bbox_3d_shape=2000.0, with_heatmaps=False)

model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),  # stages 16/32/64/128 channels
    head=dict(
        in_channels=128,
        in_featuremap_size=(3, 4),  # 96 / 32, 128 / 32
        depth_bins=16,
        deconv_out_channels=(64, 64, 64),
        decoder=codec))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, num_workers=2, dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
