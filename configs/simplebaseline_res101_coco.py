# SimpleBaseline ResNet-101, COCO 256x192 (Xiao et al., ECCV 2018): simplebaseline_res50_coco.py with depth 101.
# mmpose equivalent: body_2d_keypoint/topdown_heatmap/coco/td-hm_res101_8xb64-210e_coco-256x192.py
# Target: mmpose reports COCO val2017 AP 0.728 (AP50 0.904, AP75 0.809, AR 0.783; its resnet_coco.yml) with
# ImageNet-pretrained init and the AP-56 person boxes.
# UNVERIFIED here: COCO and pretrained weights cannot be downloaded on our machines.
_base_ = ['./simplebaseline_res50_coco.py']

model = dict(
    backbone=dict(
        depth=101,
        # torchvision's ImageNet weights, local copy (mmpose uses 'torchvision://resnet101'):
        # init_cfg=dict(type='Pretrained', checkpoint='path/to/resnet101-63fe2227.pth'),
    ))
