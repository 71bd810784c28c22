# A small mesh-recovery model (the small HRNet of the CPU demos, every branch pooled, + the mesh regression head)
# trained on the synthetic mesh people of pose_plugins.synthetic.people_mesh, on CPU:
#   python tools/demo.py --config configs/demo/hrnet_smpl_tiny_synthetic.py
# Same recipe as hrnet_w32_smpl.py (iterative regressor, 6D rotations, HMR loss weights, flip test), scaled to a
# 2-core machine: 64x64 crops, Adam 1e-3. The body is the synthetic SMPL-format mannequin (NOT SMPL).
_base_ = ['../hrnet_w32_smpl.py', '../_base_/hrnet_tiny.py']
custom_imports = dict(imports=['pose_plugins', 'pose_plugins.synthetic'], allow_failed_imports=False)
body_model = dict(type='pose_plugins.SyntheticSMPL')  # the synthetic SMPL-format mannequin of pose_plugins.synthetic

data_root = 'data/synthetic_mesh/'  # tools/demo.py generates it: SyntheticMeshConfig.from_options(synthetic_data)
synthetic_data = dict(mesh=True, image_size=[192, 192], person_height=[112.0, 176.0], people_per_image=[1, 2],
                      num_train_images=800, num_val_images=80)

train_cfg = dict(max_epochs=5, val_interval=5)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),  # 50-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=5, milestones=[4], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=5, max_keep_ckpts=1))
custom_hooks = []  # SyncBuffersHook is for multi-GPU runs
randomness = dict(seed=0)

input_size = (64, 64)
model = dict(
    backbone=dict(_delete_=True, type='pose_plugins.HRNet', extra=_base_.hrnet_tiny['extra'], multiscale_output=True),
    # tools/demo.py starts the regressor from the training people's mean body: model.head.mean_params =
    # DATA_ROOT/body_mean_params.npz (SPIN's format; the generator writes it). Without it (e.g. the config used
    # elsewhere), the documented neutral start.
    head=dict(in_channels=(16, 32, 64, 128), input_size=input_size,
              body_model=dict(_delete_=True, type='pose_plugins.SyntheticSMPL')))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.2),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', scale_factor=(0.8, 1.2), rotate_factor=20),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='pose_plugins.GenerateMeshTarget', body_model=body_model),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.2),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='pose_plugins.GenerateMeshTarget', body_model=body_model, with_vertices=True),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json'),
    dict(type='pose_plugins.MeshMetric'),
]
test_evaluator = val_evaluator
