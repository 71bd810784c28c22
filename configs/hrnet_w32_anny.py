# Human mesh recovery with the Anny body model: hrnet_w32_smpl.py's model and recipe (HRNet-W32, every branch
# pooled, HMR / SPIN iterative regressor with 6D rotations, HMR loss weights, flip test) regressing Anny's
# parameters instead of SMPL's: the delta rotations of the 'body' preset's posed bones and the 6 phenotypes (see
# pose_plugins.AnnyBody and docs/anny.md). Anny (NAVER LABS, `pip install anny`: Apache-2.0 code, CC0 assets inside
# the wheel) needs no licensed file and no download; it is not SMPL, and SMPL fits do not apply to it.
# Needs: people with Anny parameters per annotation (body_model 'anny', body_pose (J * 3 axis-angle, camera
# frame), body_shape (6 phenotypes in [0, 1]), has_body; the layout of pose_plugins.CocoMeshDataset), e.g. the
# synthetic Anny people of pose_plugins.synthetic (make_synthetic_mesh_coco with SyntheticMeshConfig(body_model=
# 'anny')) under data/anny_people/, and optionally their mean parameters (mean_params, SPIN's .npz format).
# No published figures exist for Anny on real images.
_base_ = ['./hrnet_w32_smpl.py']

body_model = dict(type='pose_plugins.AnnyBody', posed_bones='body')  # named explicitly: J and S come from it
data_root = 'data/anny_people/'

model = dict(head=dict(body_model=dict(_delete_=True, **body_model), mean_params=None))
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
