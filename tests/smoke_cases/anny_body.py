"""Smoke case (see tests/models/test_smoke_all_modules.py): the Anny body layer, pose_plugins.AnnyBody (the
installed ``anny`` package's arrays)."""
import torch


def _anny(m):
    rotmat = torch.eye(3).expand(2, m.num_joints, 3, 3) + 0.05 * torch.rand(2, m.num_joints, 3, 3)
    out = m(shape=torch.rand(2, 6, requires_grad=True), rotmat=rotmat)
    return torch.cat([out['vertices'].flatten(1), out['keypoints'].flatten(1)], dim=1)


# name -> (constructor kwargs, callable(module) -> output tensor, expected output shape)
CASES = {
    'AnnyBody': (dict(posed_bones='body'), _anny, (2, 13718 * 3 + 17 * 3)),
}
