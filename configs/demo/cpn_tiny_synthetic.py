# A small CPN (quarter-width ResNet-18 C2..C5, 32-channel GlobalNet / RefineNet) trained on the synthetic
# COCO-format people of pose_plugins.synthetic, on CPU:
#   python tools/demo.py --config configs/demo/cpn_tiny_synthetic.py
# Same recipe as cpn_res50_coco.py (blurred one-hot targets per level, GlobalNet L2 + RefineNet OHKM, flip test,
# the same augmentation), scaled to a 2-core machine: 128x96 input, narrower head, larger lr, short schedule
# (data, loaders: the _base_ file; the codec and the training pipeline's targets are CPN's).
_base_ = ['../_base_/synthetic_demo_128x96.py']

# 6 epochs of the 1200-image demo set (~2400 people, 75 iterations of 32 crops each)
train_cfg = dict(max_epochs=6, val_interval=6)
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))  # no L2 (cpn_res50_coco.py: tf-cpn's 1e-5)
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),  # 100-iteration warm-up
    dict(type='MultiStepLR', begin=0, end=6, milestones=[4, 5], gamma=0.1, by_epoch=True),
]
default_hooks = dict(checkpoint=dict(interval=3))

# input 96x128 (w x h) -> 24x32 heatmaps (stride 4); kernels and decoding blur halved with the heatmap
# (15/11/9/7 -> OpenCV sigmas 2.6/2.0/1.7/1.4 at 48x64; 7/5/5/3 -> 1.4/1.0/1.0/0.7 here; blur 21 -> 11)
codec = dict(type='pose_plugins.CPNBlurHeatmap', input_size=(96, 128), heatmap_size=(24, 32),
             kernel_sizes=(7, 5, 5, 3), blur_kernel_size=11)

# ResNet-18 at a quarter of its width (stem 16, stages 16/32/64/128, like the HRNet demo's branches) and a
# 32-channel pyramid (bottlenecks 16 wide): 0.054 GMAC per 128x96 crop, 0.77 M parameters. The full-width
# ResNet-18 with a 64-channel head (0.51 GMAC, 11.4 M parameters) measured ~5x slower per training step: ~16 min
# for these 6 epochs on 2 cores instead of ~3.5.
model = dict(
    backbone=dict(
        type='pose_plugins.ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        out_indices=(0, 1, 2, 3)),  # C2..C5: 16/32/64/128 channels at strides 4/8/16/32
    head=dict(
        type='pose_plugins.CPNHead',
        in_channels=(16, 32, 64, 128),
        out_channels=17,  # COCO keypoints
        channels=32,  # pyramid / RefineNet width (bottlenecks 16 wide)
        loss=[
            # GlobalNet: L2 per level, masked by the keypoint weights, averaged over levels; tf-cpn halves it
            dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True, loss_weight=0.5),
            # RefineNet: online hard keypoint mining, the 8 hardest of 17 keypoints
            dict(type='pose_plugins.KeypointOHKMMSELoss', use_target_weight=True, topk=8),
        ],
        decoder=codec),
    # the training batch's targets are CPN's (4 levels -> multi-level gt_fields), rendered on the model's device
    # (the _base_'s fast data path); `_delete_`: replace the _base_ MSRA encoder instead of merging its sigma in
    data_preprocessor=dict(encoder=dict(codec, _delete_=True)),
    # tf-cpn averages the heatmaps of the image and of its mirror image, without a shift
    test_cfg=dict(shift_heatmap=False))

# mmpose's path (a GenerateTarget in the _base_ pipeline) would get CPN's codec too; validation needs no codec change
train_pipeline = [
    dict(step, encoder=codec) if step['type'] == 'GenerateTarget' else step for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# the top-level `codec` replaces the _base_ MSRA codec instead of merging into it (which would add its sigma); a new
# dict, so the copies used above carry no `_delete_`
codec = dict(_delete_=True, **codec)
