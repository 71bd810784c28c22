# Debiased integral regression (Gu, Yang, Yao, "Removing the Bias of Integral Pose Regression", ICCV 2021):
# integral_res50_coco.py with debias, a sharper softmax (beta 10) and the Jensen-Shannon auxiliary loss (the
# numbers of mmpose's JSDiscretLoss, whose gradient is NaN as soon as a keypoint has weight 0 on torch 2.x).
# mmpose equivalent: body_2d_keypoint/integral_regression/coco/ipr_res50_debias-8xb64-210e_coco-256x256.py
# Target: mmpose reports COCO val2017 AP 0.675 (AR 0.765). Our debias is Gu et al.'s correction exactly (see
# pose_plugins.models.layers.SoftArgmax); mmpose's is much weaker (it divides by the sum, not the mean, of exp),
# so numbers trained here are not expected to equal mmpose's checkpoint to the digit.
# UNVERIFIED here: COCO and pretrained weights cannot be downloaded on our machines.
_base_ = ['./integral_res50_coco.py']

model = dict(
    head=dict(
        debias=True,
        beta=10.0,
        heatmap_loss=dict(type='pose_plugins.KeypointJSDivergenceLoss', use_target_weight=True)))
