# Mesh recovery in two stages on the synthetic mesh people (CPU): a 2D heatmap model, then a frozen copy of it whose
# keypoints an SMPL regressor lifts to the mesh (a 2D-to-3D lifter on the heatmaps' keypoints). The body is the
# synthetic SMPL-format mannequin (NOT SMPL). One command runs both stages on one generated set (the joint-pad
# people, 3200 training images):
#   python tools/demo.py --config configs/demo/hrnet_smpl_lifting_synthetic.py
# Stage 1 (`demo_first_stage`): the 2D demo config on this set, 7 epochs, in WORK_DIR/first_stage. Stage 2, this
# config: `load_from` stage 1's checkpoint starts the backbone, and the 2D head's 1x1 keypoint layer becomes the
# head's `keypoint_heatmaps`; both stay frozen (`frozen_stages`, lr_mult 0). The regressor sees only the 17 local
# soft-argmax centres of the heatmaps and their normalised copy (`regressor_inputs`, `centre_radius`). With
# tools/train.py, give stage 1's checkpoint as `--cfg-options load_from=...`. Figures: docs/mesh_recovery.md.
_base_ = ['./hrnet_smpl_tiny_synthetic.py']

data_root = 'data/synthetic_mesh_lifting/'
synthetic_data = dict(mesh=True, joint_pads=True, image_size=[192, 192], person_height=[112.0, 176.0],
                      people_per_image=[1, 2], num_train_images=3200, num_val_images=80)
# tools/demo.py trains this first on the same set and starts this model from its last checkpoint (load_from)
demo_first_stage = dict(config='configs/demo/hrnet_tiny_synthetic.py',
                        cfg_options={'train_cfg.max_epochs': 7, 'train_cfg.val_interval': 7,
                                     'param_scheduler.1.end': 7, 'param_scheduler.1.milestones': [5, 6]})

train_cfg = dict(max_epochs=12, val_interval=12)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=12, milestones=[10], gamma=0.1, by_epoch=True),
]
# the keypoint layer stays stage 1's (lr 0). The training log's `lr` is the first parameter group's, which is that
# layer's 0 (the frozen backbone has no group); `base_lr` is the regressor's.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3),
                     paramwise_cfg=dict(custom_keys={'head.keypoint_heatmaps': dict(lr_mult=0.0)}))
default_hooks = dict(checkpoint=dict(interval=12, max_keep_ckpts=1))

input_size = (128, 128)
model = dict(
    # stage 1's backbone as it is (its highest-resolution branch only), frozen: every stage in eval mode, no grad
    backbone=dict(multiscale_output=False, frozen_stages=4),
    head=dict(in_channels=(16, ), input_size=input_size, dropout=0.0, auxiliary_heatmaps=dict(sigma=2.0),
              keypoint_attention=True, regressor_inputs=('centres', 'normalised_centres'), centre_radius=2))

train_pipeline = _base_.train_pipeline
train_pipeline[4] = dict(type='TopdownAffine', input_size=input_size)
val_pipeline = _base_.val_pipeline
val_pipeline[2] = dict(type='TopdownAffine', input_size=input_size)
train_dataloader = dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json'),
    dict(type='pose_plugins.MeshMetric'),
]
test_evaluator = val_evaluator
