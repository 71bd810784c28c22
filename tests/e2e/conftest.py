"""Fixtures and helpers of the mesh-recovery demo test (tests/e2e/test_mesh_demo.py)."""
from pathlib import Path

import numpy as np
import torch


def mean_pose_baseline(data_root: Path) -> dict:
    """MPJPE, PA-MPJPE and PVE (mm) of predicting the head's neutral mean parameters for every person of the
    synthetic val set -- the baseline a trained mesh model must beat. The ground truth is what the demo's
    evaluation compares with (``GenerateMeshTarget(body_model=...)``: the body model on each annotation's SMPL
    parameters), scored by the same ``pose_plugins.MeshMetric``."""
    from pose_plugins.datasets import CocoMeshDataset
    from pose_plugins.evaluation.metrics.mesh_metric import MeshMetric
    from pose_plugins.models.body_models import SMPL
    from pose_plugins.models.heads.smpl_regression_head import SMPLRegressionHead
    from pose_plugins.models.layers.rotation_6d import axis_angle_to_matrix, rotation_6d_to_matrix
    dataset = CocoMeshDataset(data_root=str(data_root), ann_file='annotations/person_keypoints_val2017.json',
                              data_prefix=dict(img='val2017/'), test_mode=True, pipeline=[])
    body = SMPL().eval()
    pose, betas, camera = SMPLRegressionHead._mean_params(None, 10)
    mean = rotation_6d_to_matrix(pose.reshape(1, 24, 6))
    metric = MeshMetric()
    with torch.no_grad():
        pred = body(betas=betas[None], body_pose=mean[:, 1:], global_orient=mean[:, :1])
        for info in dataset:
            rotmat = axis_angle_to_matrix(torch.from_numpy(info['smpl_pose']).reshape(1, 24, 3))
            gt = body(betas=torch.from_numpy(info['smpl_betas']), body_pose=rotmat[:, 1:],
                      global_orient=rotmat[:, :1])
            metric.process(None, [dict(
                pred_instances=dict(keypoints_3d=pred['keypoints'].numpy(), vertices=pred['vertices'].numpy()),
                gt_instances=dict(keypoints_3d=gt['keypoints'].numpy(), vertices=gt['vertices'].numpy()))])
    return {f'mesh/{k}': float(v) for k, v in metric.compute_metrics(metric.results).items()
            if k in ('MPJPE', 'PA-MPJPE', 'PVE')}
