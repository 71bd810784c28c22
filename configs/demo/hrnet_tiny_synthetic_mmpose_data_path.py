# The README demo (hrnet_tiny_synthetic.py) on mmpose's own training data path, for comparing the two paths
# (same model, schedule, seed and data; only how a training sample becomes a target differs):
#   python tools/demo.py --config configs/demo/hrnet_tiny_synthetic_mmpose_data_path.py [--cfg-options randomness.seed=1]
# mmpose's RandomBBoxTransform (scipy truncnorm), TopdownAffine, GenerateTarget (heatmaps rendered a sample in the
# workers) and PackPoseInputs, collated, and mmpose's PoseDataPreprocessor; ours renders the batch's targets on the
# model's device (pose_plugins.TopdownTargetDataPreprocessor) from the keypoints that PackTopdownInputs passes on.
# Measured (synthetic-val AP, seeds 0 / 1): docs/performance.md.
_base_ = ['./hrnet_tiny_synthetic.py']

model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True))

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=_base_.codec['input_size']),
    # mmpose's own codec with the demo codec's arguments (the head decodes with ours; equal numbers, tested)
    dict(type='GenerateTarget', encoder=dict(type='MSRAHeatmap', input_size=_base_.codec['input_size'],
                                             heatmap_size=_base_.codec['heatmap_size'], sigma=_base_.codec['sigma'])),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
