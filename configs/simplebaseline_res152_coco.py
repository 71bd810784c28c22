# SimpleBaseline ResNet-152, COCO 256x192 (Xiao et al., ECCV 2018): simplebaseline_res50_coco.py with depth 152
# and, as mmpose, 32 images per GPU (8 x 32 = 256 per step, lr still 5e-4; `--auto-scale-lr` would halve it).
# mmpose equivalent: body_2d_keypoint/topdown_heatmap/coco/td-hm_res152_8xb32-210e_coco-256x192.py
# Target: mmpose reports COCO val2017 AP 0.736 (AP50 0.904, AP75 0.818, AR 0.791) with ImageNet-pretrained init
# and the AP-56 person boxes.
# UNVERIFIED here: COCO and pretrained weights cannot be downloaded on our machines.
_base_ = ['./simplebaseline_res50_coco.py']

model = dict(
    backbone=dict(
        depth=152,
        # torchvision's ImageNet weights, local copy (mmpose uses 'torchvision://resnet152'):
        # init_cfg=dict(type='Pretrained', checkpoint='path/to/resnet152-394f9c45.pth'),
    ))
train_dataloader = dict(batch_size=32)
