# HRNet-W48, COCO 256x192 (Sun et al., CVPR 2019): the W32 recipe with the wider backbone.
# mmpose equivalent: body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w48_8xb32-210e_coco-256x192.py
# Target: mmpose reports COCO val2017 AP 0.756 (AR 0.809) with ImageNet-pretrained init and the AP-56 boxes.
# UNVERIFIED here (no COCO or pretrained weights on our machines); see hrnet_w32_coco.py.
_base_ = ['./hrnet_w32_coco.py']

# mmpose trains W48 with 8 GPUs x 32 images at the same lr 5e-4 (and keeps auto_scale_lr base 512, so with
# --auto-scale-lr the lr becomes 5e-4 * 256 / 512 = 2.5e-4, as in mmpose)
train_dataloader = dict(batch_size=32)
model = dict(
    backbone=dict(arch='w48'),
    # init_cfg=dict(type='Pretrained', checkpoint='path/to/hrnet_w48-8ef0771d.pth') in backbone for ImageNet init
    head=dict(in_channels=48))
