"""``SyntheticMeshConfig(joint_pads=True)``: pads in the 2D people's marker colour of each joint type at the
shoulders, elbows, wrists, hips, knees and ankles, and dark eyes, with the same people and annotations as without."""
import dataclasses

import numpy as np
import pytest

from pose_plugins.synthetic.drawing import JOINT_TYPE_COLOURS
from pose_plugins.synthetic.mesh_body import EYE_TYPE, cached_mesh_body
from pose_plugins.synthetic.people_mesh import SyntheticMeshConfig, _face_colours, render_mesh_image

# SMPL joint -> joint type of the 2D people's markers (3 shoulder ... 8 ankle), written out here
PADDED_JOINTS = {3: (16, 17), 4: (18, 19), 5: (20, 21), 6: (1, 2), 7: (4, 5), 8: (7, 8)}


def test_every_pad_lies_at_its_joints_in_the_rest_pose():
    body = cached_mesh_body('synthetic_smpl', 0).body
    vertices = body.v_template.double().numpy()
    joints = body.J_regressor.double().numpy() @ vertices
    types = cached_mesh_body('synthetic_smpl', 0).pad_types
    assert types.shape == (len(vertices), ) and not types.flags.writeable
    for kind, (left, right) in PADDED_JOINTS.items():
        members = vertices[types == kind]
        assert len(members) > 20, kind
        near = np.minimum(np.linalg.norm(members - joints[left], axis=1),
                          np.linalg.norm(members - joints[right], axis=1))
        assert near.max() < 0.08, kind
        # both sides are padded: the pad's vertices lie on either side of the body's mid-plane (x = 0 in SMPL)
        assert (members[:, 0] > 0).any() and (members[:, 0] < 0).any(), kind
    eyes = vertices[types == EYE_TYPE]
    assert len(eyes) >= 2 and np.abs(eyes[:, 1]).min() > 0.2  # on the head, well above the pelvis
    assert set(np.unique(types)) == {-2, -1, 3, 4, 5, 6, 7, 8}


@pytest.mark.parametrize('body_model', ['synthetic_smpl', 'anny'])
def test_pads_colour_the_faces_and_leave_the_rest(body_model):
    body = cached_mesh_body(body_model, 0)
    faces = body.body.faces
    plain = _face_colours(np.random.default_rng(3), body)
    padded = _face_colours(np.random.default_rng(3), body, joint_pads=True)
    types = body.pad_types[faces[:, 0]]
    for kind in PADDED_JOINTS:
        np.testing.assert_array_equal(padded[types == kind], np.broadcast_to(JOINT_TYPE_COLOURS[kind],
                                                                            padded[types == kind].shape))
    assert np.all(padded[types == EYE_TYPE] < 40)
    np.testing.assert_array_equal(padded[types == -1], plain[types == -1])


def test_pads_change_the_pixels_only_not_the_people():
    cfg = SyntheticMeshConfig.from_options(dict(image_size=[128, 128], person_height=[80.0, 110.0],
                                                people_per_image=[1, 2]))
    image, annotations = render_mesh_image(np.random.default_rng(5), cfg)
    padded, padded_annotations = render_mesh_image(np.random.default_rng(5), dataclasses.replace(cfg, joint_pads=True))
    assert padded_annotations == annotations
    changed = np.abs(padded.astype(int) - image.astype(int)).max(axis=2) > 0
    assert 0 < changed.mean() < 0.2
    # the pixels that changed lie on the people (inside the union of their boxes)
    inside = np.zeros_like(changed)
    for ann in annotations:
        x, y, w, h = (int(round(v)) for v in ann['bbox'])
        inside[max(y - 1, 0):y + h + 2, max(x - 1, 0):x + w + 2] = True
    assert changed[~inside].sum() == 0


def test_joint_pads_option_is_checked_and_read_from_options():
    assert SyntheticMeshConfig().joint_pads is False
    assert SyntheticMeshConfig.from_options(dict(joint_pads=True)).joint_pads is True
    with pytest.raises(ValueError, match='joint_pads'):
        SyntheticMeshConfig(joint_pads='yes')
