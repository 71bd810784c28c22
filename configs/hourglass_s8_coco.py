# Stacked Hourglass, 8 stacks, COCO 256x256: Newell et al.'s full network (ECCV 2016; PCKh@0.5 90.9 on the MPII
# test set). The 2-stack recipe (hourglass_s2_coco.py) with 8 stacks and one MSE term per stack, summed.
# mmpose's hourglass52 (a different, CornerNet-style single-stack net) reaches COCO val2017 AP 0.726.
# UNVERIFIED on COCO here (no COCO on our machines); see hourglass_s2_coco.py.
# Parameters (measured, K=17 keypoints): 25,406,664.
_base_ = ['./hourglass_s2_coco.py']

num_stacks = 8
model = dict(
    backbone=dict(num_stacks=num_stacks),
    head=dict(
        num_stacks=num_stacks,
        loss=[dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True) for _ in range(num_stacks)]))
