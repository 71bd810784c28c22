"""6D rotation representation, axis-angle and the mirror of rotations (pose_plugins.geometry)."""
import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from pose_plugins.geometry import (IDENTITY_6D, axis_angle_to_matrix, matrix_to_axis_angle,
                                                    matrix_to_rotation_6d, mirror_rotations, rotation_6d_to_matrix)


def test_any_6d_gives_a_rotation():
    x = torch.randn(500, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3
    r = rotation_6d_to_matrix(x)
    # float64 Gram-Schmidt of O(1) vectors: errors of a few ulp (1e-16); 1e-12 leaves a wide margin
    torch.testing.assert_close(r @ r.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(500, 3, 3),
                               atol=1e-12, rtol=0)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(500, dtype=torch.float64), atol=1e-12, rtol=0)
    # float32 as the head runs it: ~1e-7 per entry
    r32 = rotation_6d_to_matrix(x.float())
    assert (r32 @ r32.transpose(-1, -2) - torch.eye(3)).abs().max() < 1e-5


@pytest.mark.parametrize('axis,angle', [('x', 90), ('y', -90), ('z', 180), ('x', 180), ('y', 30), ('z', 0)])
def test_exact_on_known_rotations(axis, angle):
    expected = torch.from_numpy(Rotation.from_euler(axis, angle, degrees=True).as_matrix())
    # the identity's and a half turn's 6D vectors hand-written, the others from the matrix
    if (axis, angle) == ('z', 0):
        x = torch.tensor(IDENTITY_6D, dtype=torch.float64)
    elif (axis, angle) == ('x', 180):
        x = torch.tensor([1.0, 0.0, 0.0, -1.0, 0.0, 0.0], dtype=torch.float64)  # SPIN layout: R00 R01 R10 R11 R20 R21
    else:
        x = matrix_to_rotation_6d(expected)
    # exact up to the float64 rounding of cos/sin of the angle (1e-16)
    torch.testing.assert_close(rotation_6d_to_matrix(x), expected, atol=1e-15, rtol=0)
    # unnormalised / non-orthogonal inputs in the same span give the same rotation
    a1, a2 = x[0::2], x[1::2]
    skewed = torch.stack([2.5 * a1, 0.7 * a2 + 0.4 * a1], dim=-1).reshape(6)
    torch.testing.assert_close(rotation_6d_to_matrix(skewed), expected, atol=1e-14, rtol=0)


def test_axis_angle_round_trip_and_scipy():
    aa = torch.randn(300, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    aa[:4] = torch.tensor([[0.0, 0.0, 0.0], [math.pi, 0.0, 0.0], [0.0, 1e-7, 0.0], [0.0, 0.0, -math.pi + 1e-9]])
    r = axis_angle_to_matrix(aa)
    torch.testing.assert_close(r, torch.from_numpy(Rotation.from_rotvec(aa.numpy()).as_matrix()), atol=1e-14,
                               rtol=0)
    torch.testing.assert_close(axis_angle_to_matrix(matrix_to_axis_angle(r)), r, atol=1e-12, rtol=0)
    zero = torch.zeros(1, 3, requires_grad=True)
    axis_angle_to_matrix(zero).sum().backward()
    assert torch.isfinite(zero.grad).all()


def test_mirror_is_reflection_and_involution():
    aa = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 0.8
    r = axis_angle_to_matrix(aa)
    flip = [1, 0, 3, 2]
    m = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))
    mirrored = mirror_rotations(r, flip)
    torch.testing.assert_close(mirrored, (m @ r @ m)[:, flip], atol=0, rtol=0)
    torch.testing.assert_close(matrix_to_axis_angle(mirrored), (aa * torch.tensor([1.0, -1.0, -1.0],
                                                                                   dtype=torch.float64))[:, flip],
                               atol=1e-12, rtol=0)
    torch.testing.assert_close(mirror_rotations(mirrored, flip), r, atol=0, rtol=0)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match='last dimension must be 6'):
        rotation_6d_to_matrix(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r'\(\.\.\., 3, 3\)'):
        matrix_to_axis_angle(torch.zeros(2, 3))
