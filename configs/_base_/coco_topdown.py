# COCO person keypoints, top-down: dataset, loaders and CocoMetric (mmpose layout under data/coco/).
# Each model config adds its codec-dependent pipelines:
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline)); val_dataloader likewise.
# Our model configs train on the fast data path: the train_pipeline ends with
# pose_plugins.TopdownAffine + pose_plugins.PackTopdownInputs (no GenerateTarget: no heatmaps in the workers) and
# model.data_preprocessor is pose_plugins.TopdownTargetDataPreprocessor(encoder=codec, ...), which renders the
# batch's targets on the model's device. mmpose's path still works: PoseDataPreprocessor and
# GenerateTarget(encoder=codec) + PackPoseInputs (tools/benchmark.py compares the two).
# mmpose's CocoDataset with bad samples skipped (one warning each) and bad files stopped, at load time
dataset_type = 'pose_plugins.CocoKeypointDataset'
data_mode = 'topdown'
data_root = 'data/coco/'

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
    ))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode=data_mode,
        ann_file='annotations/person_keypoints_val2017.json',
        # person boxes of the detector with 56.4 human AP used by the HRNet / SimpleBaseline papers
        bbox_file=data_root + 'person_detection_results/COCO_val2017_detections_AP_H_56_person.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
    ))
test_dataloader = val_dataloader

val_evaluator = dict(type='CocoMetric', ann_file=data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
