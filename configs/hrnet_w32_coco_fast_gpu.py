# HRNet-W32, COCO 256x192: hrnet_w32_coco.py (the same model, recipe and results) with the fast GPU training recipe
# switched on in the config rather than by `tools/train.py --fast-gpu --compile`:
# bf16 autocast, channels_last, Adam's fused kernel and the repeated blocks compiled on CUDA (nothing changes on a
# CPU), and the affine crop of every training sample done batched on the GPU by the data preprocessor instead of
# cv2.warpAffine in the workers (TopdownAffineMatrix: the workers decode, flip and pick the box only).
# docs/performance.md has the speed of each lever; docs/training.md how the crops compare with OpenCV's.
_base_ = ['./hrnet_w32_coco.py']

fast_gpu_training = dict(compile='blocks')

# hrnet_w32_coco.py's train pipeline with the crop's matrix, not its pixels, made in the workers
train_pipeline = [
    dict(step, type='pose_plugins.TopdownAffineMatrix') if step['type'] == 'pose_plugins.TopdownAffine' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
