# Human mesh recovery from HRNet features: image -> HRNet-W32 (every branch) -> pooled "feat_list" ->
# HMR / SPIN iterative regressor (3 iterations, 6D rotations, mean-parameter start) -> SMPL (betas, pose, camera)
# -> 3D joints, mesh and COCO's 17 keypoints projected into the crop.
# Papers: Kanazawa et al., HMR, CVPR 2018; Kolotouros et al., SPIN, ICCV 2019 (6D rotations, camera translation
# (tx, ty, 2f/(res s)) with f = 5000, Adam 5e-5, batch 64); Kocabas et al., PARE, ICCV 2021 and Li et al., CLIFF,
# ECCV 2022 (HRNet backbones for this task). mmpose 0.x's HMR (`res50_mixed_224x224.py`) gives the loss weights:
# 2D 100, 3D 1000, vertices 20, pose 30, betas 0.2 (its adversarial prior is replaced by SPIN's shape prior 0.001).
# Published figures, 3DPW test, MPJPE / PA-MPJPE / PVE in mm -- UNVERIFIED targets, not reproduced here (no SMPL
# model, no 3DPW, no pretrained weights can be downloaded on our machines; built and tested on synthetic people):
#   CLIFF HRNet-W48 69.0 / 43.0 / 81.2;  PARE HRNet-W32 82.0 / 50.9 / 97.9;  SPIN ResNet-50 96.9 / 59.2 / -
#   (mmpose 0.x HMR ResNet-50, Human3.6M protocol 2: 80.8 / 55.1)
# Needs: your own SMPL model file (body_model.model_path; tools/convert_smpl_model.py makes a clean .npz of an
# official .pkl), SPIN's smpl_mean_params.npz (mean_params; without it the head starts from a documented neutral
# pose) and COCO with SMPL pseudo-ground-truth merged into the annotations (smpl_pose 72, smpl_betas 10, has_smpl per person;
# the layout of pose_plugins.CocoMeshDataset) under data/coco/.
_base_ = ['./_base_/default_runtime.py', './_base_/coco_topdown.py']

train_cfg = dict(max_epochs=100, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-5))  # SPIN: Adam 5e-5, no decay, batch 64
param_scheduler = [dict(type='LinearLR', begin=0, end=500, start_factor=0.01, by_epoch=False)]
auto_scale_lr = dict(base_batch_size=64)  # 1 GPU x 64 crops (coco_topdown.py's batch)
default_hooks = dict(checkpoint=dict(save_best='mesh/PA-MPJPE', rule='less'))

input_size = (256, 256)  # square crops: the weak-perspective camera has one scale
body_model = dict(type='pose_plugins.SMPL', model_path='data/smpl/SMPL_NEUTRAL.npz')  # your SMPL file

model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet RGB mean/std in 0-255
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='pose_plugins.HRNet',
        arch='w32',
        multiscale_output=True,  # every branch: the "feat_list" (32 + 64 + 128 + 256 = 480 pooled channels)
        # init_cfg=dict(type='Pretrained', checkpoint='path/to/hrnet_w32_coco_256x192.pth', prefix='backbone.'),
    ),
    head=dict(
        type='pose_plugins.MeshRegressionHead',
        in_channels=(32, 64, 128, 256),
        input_size=input_size,
        body_model=body_model,
        mean_params=None,  # e.g. 'data/smpl/smpl_mean_params.npz' (SPIN's)
        num_iterations=3,
        hidden_channels=1024,
        focal_length=5000.0),
    # flip test: the mirrored crop's SMPL parameters are mirrored back and averaged (MeshRegressionHead.predict)
    test_cfg=dict(flip_test=True))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.2),
    dict(type='RandomFlip', direction='horizontal'),  # GenerateMeshTarget mirrors the SMPL pose and 3D joints
    dict(type='RandomBBoxTransform', scale_factor=(0.75, 1.25), rotate_factor=30),  # SPIN: +-30 deg, 0.25 scale
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='pose_plugins.GenerateMeshTarget', body_model=body_model),  # the same flip and rotation in 3D
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.2),
    dict(type='TopdownAffine', input_size=input_size),
    dict(type='pose_plugins.GenerateMeshTarget', body_model=body_model, with_vertices=True),  # + vertices: PVE
    dict(type='PackPoseInputs'),
]
# COCO with SMPL fields per annotation (pose_plugins.CocoMeshDataset: the pseudo-ground-truth fits' layout)
train_dataloader = dict(dataset=dict(type='pose_plugins.CocoMeshDataset', pipeline=train_pipeline))
# ground-truth boxes (no bbox_file): the mesh metric needs each person's ground truth
val_dataloader = dict(dataset=dict(type='pose_plugins.CocoMeshDataset', bbox_file=None, pipeline=val_pipeline))
test_dataloader = val_dataloader

# COCO keypoint AP of the projected 17 keypoints (like any pose model) and MPJPE / PA-MPJPE / PVE in mm
val_evaluator = [
    dict(type='CocoMetric', ann_file='data/coco/annotations/person_keypoints_val2017.json'),
    dict(type='pose_plugins.MeshMetric'),
]
test_evaluator = val_evaluator
