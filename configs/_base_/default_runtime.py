# Runtime shared by every pose_plugins config (mmengine Runner, mmpose scope).
# Our classes are named with the `pose_plugins.` prefix; unscoped names are mmpose's.
default_scope = 'mmpose'
custom_imports = dict(imports=['pose_plugins'], allow_failed_imports=False)

default_hooks = dict(
    # mmengine's RuntimeInfoHook, reading the step's losses / acc_pose back only when they are logged: no per-step
    # wait for the GPU (the same logs and checkpoints)
    runtime_info=dict(type='pose_plugins.LazyRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook (same arguments), but crash-safe: atomic writes, old checkpoints removed only after
    # the new one and last_checkpoint are complete (docs/reliability.md)
    checkpoint=dict(type='pose_plugins.CrashSafeCheckpointHook', interval=10, save_best='coco/AP', rule='greater',
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='PoseVisualizationHook', enable=False),
    # checkpoints carry the Python / numpy / torch random streams and the sampler seed: exact resume
    rng_state=dict(type='pose_plugins.RNGStateHook'),
)
# keep BN running statistics identical across ranks at the end of each epoch
custom_hooks = [dict(type='SyncBuffersHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches this to gloo (and DDP device_ids=None) when no GPU is present
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='PoseLocalVisualizer', vis_backends=vis_backends, name='visualizer')

log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True, num_digits=6)
log_level = 'INFO'
load_from = None
resume = False
backend_args = dict(backend='local')

train_cfg = dict(by_epoch=True)
val_cfg = dict()
test_cfg = dict()
