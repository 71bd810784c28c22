# Mesh recovery of Anny bodies in two stages on synthetic Anny people (CPU): the two-stage demo of
# hrnet_smpl_lifting_synthetic.py (a 2D heatmap model, then a frozen copy of it whose keypoints the mesh regressor
# lifts to the body) with the Anny body model (pose_plugins.AnnyBody: the `anny` package, Apache-2.0 code, CC0
# assets; not SMPL) instead of the synthetic SMPL-format mannequin. One command runs both stages:
#   python tools/demo.py --config configs/demo/hrnet_anny_lifting_synthetic.py
# Figures and commands: docs/anny.md.
_base_ = ['./hrnet_smpl_lifting_synthetic.py']

body_model = dict(type='pose_plugins.AnnyBody', posed_bones='body')  # the head's J and S come from it

data_root = 'data/synthetic_anny/'
synthetic_data = dict(mesh=True, body_model='anny', joint_pads=True, image_size=[192, 192],
                      person_height=[112.0, 176.0], people_per_image=[1, 2], num_train_images=3200,
                      num_val_images=80)
# stage 1: the 2D demo config on this set, 6 epochs (steps at 4 and 5)
demo_first_stage = dict(config='configs/demo/hrnet_tiny_synthetic.py',
                        cfg_options={'train_cfg.max_epochs': 6, 'train_cfg.val_interval': 6,
                                     'param_scheduler.1.end': 6, 'param_scheduler.1.milestones': [4, 5]})
# stage 2: 10 epochs, step at 8
train_cfg = dict(max_epochs=10, val_interval=10)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=10, milestones=[8], gamma=0.1, by_epoch=True),
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))

model = dict(head=dict(body_model=dict(_delete_=True, **body_model)))
train_pipeline = _base_.train_pipeline
train_pipeline[5] = dict(type='pose_plugins.GenerateMeshTarget', body_model=body_model)
val_pipeline = _base_.val_pipeline
val_pipeline[3] = dict(type='pose_plugins.GenerateMeshTarget', body_model=body_model, with_vertices=True)
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json'),
    dict(type='pose_plugins.MeshMetric'),
]
test_evaluator = val_evaluator
