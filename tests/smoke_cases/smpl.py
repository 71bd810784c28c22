"""Smoke cases (see tests/models/test_smoke_all_modules.py): mesh recovery -- MeshRegressionHead, its losses
(MaskedRegressionLoss, RootRelativeJointLoss, ShapePriorLoss) and the SMPL body layer (on the synthetic mannequin's
arrays, and as pose_plugins.SyntheticSMPL)."""
import torch

from pose_plugins.synthetic import make_synthetic_smpl  # also registers pose_plugins.SyntheticSMPL


def _head_outputs(m):
    out = m((torch.rand(2, 4, 8, 8), torch.rand(2, 8, 4, 4)))
    # the parameters and what the body model and camera make of them all feed the gradient check
    return torch.cat([out['pose_6d'], out['shape'], out['camera'], out['keypoints_2d'].flatten(1),
                      out['vertices'].flatten(1)[:, :30]], dim=1)


def _smpl(m):
    pose = torch.eye(3).expand(2, 24, 3, 3) + 0.05 * torch.rand(2, 24, 3, 3)
    out = m(shape=torch.rand(2, 10, requires_grad=True), rotmat=pose)
    return torch.cat([out['vertices'].flatten(1), out['keypoints'].flatten(1)], dim=1)


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
_MESH_HEAD = (dict(in_channels=(4, 8), input_size=(32, 32), hidden_channels=16, num_iterations=2,
                   body_model=dict(type='pose_plugins.SyntheticSMPL')), _head_outputs, (2, 144 + 10 + 3 + 34 + 30))
CASES = {
    'MeshRegressionHead': _MESH_HEAD,
    'SMPLRegressionHead': _MESH_HEAD,  # the same class under its earlier name
    'MaskedRegressionLoss': (dict(criterion='smooth_l1', loss_weight=2.0),
                             lambda m: m(torch.rand(2, 17, 2, requires_grad=True), torch.rand(2, 17, 2),
                                         torch.rand(2, 17)), ()),
    'RootRelativeJointLoss': (dict(loss_weight=10.0),
                              lambda m: m(torch.rand(2, 17, 3, requires_grad=True), torch.rand(2, 17, 3),
                                          torch.ones(2)), ()),
    'ShapePriorLoss': (dict(), lambda m: m(torch.rand(2, 10, requires_grad=True)), ()),
    'SMPL': (dict(arrays=make_synthetic_smpl(seed=0)), _smpl, (2, 6890 * 3 + 17 * 3)),
    'SyntheticSMPL': (dict(seed=1), _smpl, (2, 6890 * 3 + 17 * 3)),
}
