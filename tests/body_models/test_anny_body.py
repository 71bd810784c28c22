"""AnnyBody against anny's own forward (``anny.Anny(skinning_method='lbs')``, float64), Horn's Procrustes against
the SVD, the rest pose, COCO keypoints and orientation, gradients, the rig tables, errors and the ONNX graph."""
import io
import warnings
from typing import Dict

import anny
import numpy as np
import onnxruntime as ort
import pytest
import torch

from pose_plugins.body_models import AnnyBody, BodyModel
from pose_plugins.body_models.anny_rig import BODY_BONES, anny_model_arrays, special_procrustes_horn
from pose_plugins.geometry import axis_angle_to_matrix, mirror_rotations
from pose_plugins.registry import MODELS

COCO_FLIP = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)


@pytest.fixture(scope='module')
def body() -> AnnyBody:
    return AnnyBody()


@pytest.fixture(scope='module')
def reference() -> anny.Anny:
    """anny's model as anny builds it (float64 arrays)."""
    return anny.Anny(skinning_method='lbs')


@pytest.fixture(scope='module')
def rounded_reference() -> anny.Anny:
    """anny's model on the arrays rounded to float32 as AnnyBody's buffers hold them (its anchors, Anny's
    linspace, stay: AnnyBody reads them as exact integer scales and offsets)."""
    model = anny.Anny(skinning_method='lbs')
    for name, value in list(model.named_buffers()):
        if value.is_floating_point() and '.' not in name:
            setattr(model, name, value.float().double())
    return model


def random_inputs(seed: int, batch: int, joints: int, max_angle: float = 1.0):
    """(B, 6) phenotypes in [0, 1], the first row all 0, the second all 1; (B, J, 3, 3) rotations of random axes
    and angles up to ``max_angle`` radians; float64."""
    generator = torch.Generator().manual_seed(seed)
    shape = torch.rand(batch, 6, generator=generator, dtype=torch.float64)
    shape[0], shape[1] = 0.0, 1.0
    axes = torch.nn.functional.normalize(torch.randn(batch, joints, 3, generator=generator, dtype=torch.float64),
                                         dim=-1)
    angles = max_angle * torch.rand(batch, joints, 1, generator=generator, dtype=torch.float64)
    return shape, axis_angle_to_matrix(axes * angles)


def anny_outputs(model: anny.Anny, posed_index: torch.Tensor, shape: torch.Tensor,
                 rotmat: torch.Tensor) -> Dict[str, torch.Tensor]:
    """anny's forward with the posed bones' deltas (every other bone's identity), as AnnyBody's outputs."""
    deltas = torch.eye(4, dtype=torch.float64).repeat(shape.shape[0], len(model.bone_labels), 1, 1)
    deltas[:, posed_index, :3, :3] = rotmat
    out = model(pose_parameters=deltas, phenotype_kwargs=shape)
    keypoints = anny.KeypointsRegressor.coco(model)(out)[:, :17]
    return dict(vertices=out['vertices'], joints=out['bone_poses'][:, posed_index, :3, 3], keypoints=keypoints)


def assert_outputs_close(ours: Dict[str, torch.Tensor], theirs: Dict[str, torch.Tensor], atol: float) -> None:
    for key in ('vertices', 'joints', 'keypoints'):
        torch.testing.assert_close(ours[key].double(), theirs[key], rtol=0, atol=atol, msg=key)


@pytest.mark.parametrize('preset', ['body', 'all'])
def test_float64_layer_equals_anny(rounded_reference, preset: str) -> None:
    layer = AnnyBody(posed_bones=preset).double()
    shape, rotmat = random_inputs(0, batch=4, joints=layer.num_joints)
    with torch.no_grad():
        ours = layer(shape=shape, rotmat=rotmat)
        theirs = anny_outputs(rounded_reference, layer.posed_index, shape, rotmat)
    # both float64 on the same arrays; they differ only in the order of sums and products (136 blendshapes, 5
    # pointer-jumping products for 16 chain levels, ~400-term keypoint blocks) and in Horn's squarings against
    # roma's closed form (both converged to ~1e-15, test_horn_procrustes_equals_svd): ~1e2 roundings of 1e-16 on
    # metre-scale values, ~1e-14 m; 1e-9 m leaves five orders of magnitude
    assert_outputs_close(ours, theirs, atol=1e-9)


def test_float32_layer_near_anny_float64(body, reference) -> None:
    shape, rotmat = random_inputs(1, batch=4, joints=body.num_joints)
    with torch.no_grad():
        ours = body(shape=shape.float(), rotmat=rotmat.float())
        theirs = anny_outputs(reference, body.posed_index, shape, rotmat)
    # float32 (u = 6e-8) on values under 1 m: the arrays and inputs round at u; sums of 136 blendshapes, 104 bone
    # weights and ~400-term keypoint blocks, and a 16-level chain add ~1e2 u; Horn in float32 turns M's rounding
    # into a rotation error of u / (relative eigenvalue gap >= 0.03) ~ 2e-6 rad, times a 0.5 m lever: ~1e-6 m in
    # all; 1e-5 m (0.01 mm) leaves a factor of ten
    assert_outputs_close(ours, theirs, atol=1e-5)


def test_horn_procrustes_equals_svd(reference) -> None:
    generator = torch.Generator().manual_seed(2)
    shape = torch.rand(256, 6, generator=generator, dtype=torch.float64)
    shape[:64] = (torch.rand(64, 6, generator=generator) > 0.5).double()  # corners of the phenotype box
    no_terms = torch.zeros(256, 0, dtype=torch.float64)
    coefficients = reference._get_phenotype_blendshape_coefficients(shape, no_terms, no_terms)
    matrices = reference.bone_template_orientation_matrices + torch.einsum(
        'ba,akij->bkij', coefficients, reference.bone_orientation_blendshapes)  # (256, 104, 3, 3), Anny's M
    u, s, vh = torch.linalg.svd(matrices)
    sign = torch.det(u @ vh)
    assert (sign < 0).sum() > 0  # improper M occur (Anny's neck03): Horn must give the proper rotation there too
    svd = u @ torch.diag_embed(torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign], -1)) @ vh
    # Horn's convergence: the shifted N's two largest eigenvalues, s1 + s2 + d s3 and s1 - s2 - d s3, plus
    # |M|_F; after 20 squarings their ratio is raised to 2^20: below 1e-15 on every bone and phenotype here
    shift = matrices.square().sum((-2, -1)).sqrt()
    ratio = (s[..., 0] - s[..., 1] - sign * s[..., 2] + shift) / (s[..., 0] + s[..., 1] + sign * s[..., 2] + shift)
    assert ratio.max() ** (2 ** 20) < 1e-15
    horn = special_procrustes_horn(matrices)
    # float64: converged, round-off ~1e-16 amplified by 1 / (relative gap >= 0.03); 1e-12 leaves a margin of 1e3
    torch.testing.assert_close(horn, svd, rtol=0, atol=1e-12)
    # float32: M rounds at u = 6e-8, the rotation moves by u / (relative gap >= 0.03) ~ 2e-6; 1e-5
    torch.testing.assert_close(special_procrustes_horn(matrices.float()).double(), svd, rtol=0, atol=1e-5)


def test_rest_pose_is_annys_reference_pose(rounded_reference) -> None:
    """Identity rotations: every bone in its reference orientation (Anny's identity deltas): standing, arms in an
    A, the root's head (the pelvis) at the origin."""
    layer = AnnyBody().double()
    shape = torch.tensor([[0.5] * 6, [0.0, 1.0, 0.3, 0.9, 0.1, 0.7]], dtype=torch.float64)
    with torch.no_grad():
        ours = layer(shape=shape, rotmat=torch.eye(3, dtype=torch.float64).expand(2, layer.num_joints, 3, 3))
        out = rounded_reference(phenotype_kwargs=shape)  # no pose_parameters: identity deltas
    theirs = dict(vertices=out['vertices'], joints=out['bone_poses'][:, layer.posed_index, :3, 3],
                  keypoints=anny.KeypointsRegressor.coco(rounded_reference)(out)[:, :17])
    assert_outputs_close(ours, theirs, atol=1e-9)  # as in test_float64_layer_equals_anny
    assert ours['joints'][:, 0].abs().max() == 0.0


def test_keypoints_face_forward_and_turn_upright(body) -> None:
    names = body.keypoint_names
    with torch.no_grad():
        model_frame = body(shape=torch.full((1, 6), 0.5), rotmat=torch.eye(3).expand(1, body.num_joints, 3, 3))
        camera = body(shape=torch.full((1, 6), 0.5), rotmat=body.neutral_rotmat(1))
    # each frame's (towards the person's left, up, the way the body faces) coordinates
    frames = dict(model=(model_frame, lambda p: (p[:, 0], p[:, 2], -p[:, 1])),  # z up, facing -y, left at +x
                  camera=(camera, lambda p: (p[:, 0], -p[:, 1], -p[:, 2])))  # y down, facing the camera, left: right
    for frame, (out, axes) in frames.items():
        side, height, front = axes(out['keypoints'][0])
        ears = (front[names.index('left_ear')] + front[names.index('right_ear')]) / 2
        assert front[names.index('nose')] > ears + 0.05, frame  # the nose in front of the ears
        assert height[names.index('nose')] > height[names.index('left_ankle')] + 1.0, frame  # head above the feet
        for k, name in enumerate(names):
            if name.startswith('left_'):
                assert side[k] > 0 > side[names.index(name.replace('left_', 'right_'))], (frame, name)


def test_gradients_reach_every_input_and_equal_annys(body, rounded_reference) -> None:
    # every phenotype at each end of its range (and at an inner anchor), the others neutral
    shape = torch.full((18, 6), 0.5)
    for i in range(6):
        shape[3 * i:3 * i + 3, i] = torch.tensor([0.0, 1.0, 0.5])
    shape.requires_grad_(True)
    rotmat = random_inputs(3, batch=18, joints=body.num_joints)[1].float().requires_grad_(True)
    out = body(shape=shape, rotmat=rotmat)
    sum(value.square().sum() for value in out.values()).backward()
    assert torch.isfinite(shape.grad).all() and torch.isfinite(rotmat.grad).all()
    # each phenotype moves the body at its ends (not every other one does: proportions do nothing to a baby, age
    # 0, in anny too: checked below)
    assert all((shape.grad[3 * i:3 * i + 3, i].abs() > 0).all() for i in range(6))
    assert (rotmat.grad.abs().sum((-2, -1)) > 0).all()
    # and the one-sided gradients at the anchors are anny's (all 0 and all 1 included), float64
    layer = AnnyBody().double()
    values = torch.tensor([[0.0] * 6, [1.0] * 6, [0.5] * 6, [1 / 3] * 6], dtype=torch.float64)
    ours, theirs = values.clone().requires_grad_(True), values.clone().requires_grad_(True)
    identity = torch.eye(3, dtype=torch.float64).expand(4, layer.num_joints, 3, 3)
    layer(shape=ours, rotmat=identity)['vertices'].square().sum().backward()
    rounded_reference(phenotype_kwargs=theirs)['vertices'].square().sum().backward()
    # float64, but roma damps its Procrustes derivative (gradient_eps 1e-5: 1 / t -> t / (t^2 + 1e-10)) where ours
    # is exact: with M's pairwise singular-value sums t >= 5e-3 here (s1 >= 0.16, relative gap >= 0.03) a relative
    # change <= 4e-6 of the orientations' share of the gradient; 1e-5
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize('preset', ['body', 'all'])
def test_rig_tables(preset: str) -> None:
    layer = AnnyBody(posed_bones=preset)
    data = anny_model_arrays()
    names, parents, flip = layer.joint_names, layer.parents, layer.flip_indices
    assert names[0] == 'root' and parents[0] == -1 and all(0 <= p < j for j, p in enumerate(parents) if j)
    assert all(flip[flip[j]] == j for j in range(len(names)))
    for j, name in enumerate(names):
        partner = name[:-2] + {'.L': '.R', '.R': '.L'}[name[-2:]] if name[-2:] in ('.L', '.R') else name
        assert names[flip[j]] == partner
        walk = data.bone_parents[data.bone_labels.index(name)]  # the nearest posed ancestor in Anny's tree
        while j and data.bone_labels[walk] not in names:
            walk = data.bone_parents[walk]
        assert j == 0 or names[parents[j]] == data.bone_labels[walk]
    if preset == 'all':
        assert names == data.bone_labels and parents == data.bone_parents
    else:
        assert names == BODY_BONES and layer.num_joints == 26
        parent_of = {name: names[parents[j]] for j, name in enumerate(names) if j}
        assert parent_of['lowerarm01.L'] == 'upperarm01.L' and parent_of['upperleg01.R'] == 'root'  # twist, pelvis
        assert parent_of['clavicle.L'] == 'spine01' and parent_of['head'] == 'neck03'


def test_interface_attributes(body) -> None:
    built = MODELS.build(dict(type='pose_plugins.AnnyBody', posed_bones='body'))
    assert isinstance(built, AnnyBody) and isinstance(built, BodyModel) and built.name == 'anny'
    assert built.shape_names == ('gender', 'age', 'muscle', 'weight', 'height', 'proportions')
    assert built.neutral_shape == (0.5, ) * 6 and built.shape_range == (0.0, 1.0)
    upright = np.array(built.upright)
    np.testing.assert_array_equal(upright @ upright.T, np.eye(3))
    assert np.linalg.det(upright) == 1.0
    faces = built.faces
    assert faces.shape == (27420, 3) and faces.dtype == np.int64 and not faces.flags.writeable
    assert built.num_vertices == 13718 and faces.min() == 0 and faces.max() == 13717
    # counter-clockwise seen from outside: the rest mesh's signed volume (sum of det(v0, v1, v2) / 6) is positive
    triangles = anny_model_arrays().template_vertices[faces]
    assert np.linalg.det(triangles).sum() / 6 > 0.01  # m^3: a human body holds tens of litres (0.01 m^3: 10 l)
    # no state: nothing in a checkpoint, nothing to train
    assert built.state_dict() == {} and list(built.parameters()) == []
    assert built.double().state_dict() == {}


def test_mirrored_rotations_mirror_the_body(body) -> None:
    shape, rotmat = random_inputs(4, batch=2, joints=body.num_joints, max_angle=0.5)
    identity = torch.eye(3).expand(2, body.num_joints, 3, 3)
    mirror = torch.tensor([-1.0, 1.0, 1.0])
    flip = list(body.flip_indices)
    with torch.no_grad():
        rest = body(shape=shape.float(), rotmat=identity)['joints']
        out = body(shape=shape.float(), rotmat=rotmat.float())
        mirrored = body(shape=shape.float(), rotmat=mirror_rotations(rotmat.float(), body.flip_indices))
    # Anny's rig (MakeHuman's mesh, its head bones a few millimetres off the midline) is its own mirror image to
    # within 1 cm at rest; posing turns those offsets without growing them: 2 cm. A wrong partner or axis sign
    # moves joints by bones turned by up to 0.5 rad, tens of centimetres
    assert (rest[:, flip] * mirror - rest).abs().max() < 0.01
    torch.testing.assert_close(mirrored['joints'][:, flip] * mirror, out['joints'], rtol=0, atol=0.02)
    torch.testing.assert_close(mirrored['keypoints'][:, list(COCO_FLIP)] * mirror, out['keypoints'], rtol=0,
                               atol=0.02)


@pytest.mark.parametrize('field, shape, pattern', [
    ('rotmat', (2, 25, 3, 3), r'rotmat must have shape \(B, 26, 3, 3\)'),
    ('shape', (2, 10), r'shape must have shape \(B, 6\)'),
    ('rotmat', (3, 26, 3, 3), r'rotmat .* batch size B of shape'),
])
def test_bad_input_shapes_name_the_field(body, field: str, shape, pattern: str) -> None:
    inputs = dict(shape=torch.zeros(2, 6), rotmat=torch.eye(3).expand(2, 26, 3, 3))
    inputs[field] = torch.zeros(shape)
    with pytest.raises(ValueError, match=pattern):
        body(**inputs)


@pytest.mark.parametrize('posed_bones, pattern', [
    ('legs', r"posed_bones must be a preset in \['all', 'body'\].*'legs'"),
    (['root', 'wing.L'], r"posed_bones has labels that are not Anny bones: \['wing.L'\]"),
    ([], r'posed_bones has labels that are not Anny bones: \[\] \(empty: True\)'),
    (['spine05', 'root'], r"posed_bones must start with the root 'root', got 'spine05'"),
    (['root', 'spine05', 'spine05'], r"posed_bones has duplicates \['spine05'\]"),
    (['root', 'spine04', 'spine05'], r"posed_bones lists \['spine04'\] before their nearest posed ancestors"),
    (['root', 'wrist.L'], r"posed_bones must hold both sides of each bone, \['wrist.L'\] have no mirror partner"),
])
def test_bad_posed_bones_name_the_argument(posed_bones, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        AnnyBody(posed_bones=posed_bones)


class _Graph(torch.nn.Module):
    """(shape, rotmat) -> (vertices, keypoints), the tensors an exported mesh model carries."""

    def __init__(self, body: AnnyBody) -> None:
        super().__init__()
        self.body = body

    def forward(self, shape: torch.Tensor, rotmat: torch.Tensor):
        out = self.body(shape=shape, rotmat=rotmat)
        return out['vertices'], out['keypoints']


def test_onnx_export_runs_in_onnxruntime(body) -> None:
    shape, rotmat = random_inputs(5, batch=2, joints=body.num_joints)
    names = ['shape', 'rotmat', 'vertices', 'keypoints']
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():  # as pose_plugins.deploy.onnx_export exports
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.simplefilter('ignore', DeprecationWarning)  # the TorchScript exporter, which we use
        torch.onnx.export(_Graph(body).eval(), (shape.float(), rotmat.float()), buffer, dynamo=False,
                          input_names=names[:2], output_names=names[2:],
                          dynamic_axes={name: {0: 'batch'} for name in names}, opset_version=17,
                          do_constant_folding=True)
    session = ort.InferenceSession(buffer.getvalue(), providers=['CPUExecutionProvider'])
    shape, rotmat = random_inputs(6, batch=3, joints=body.num_joints)  # another batch size
    vertices, keypoints = session.run(None, dict(shape=shape.float().numpy(), rotmat=rotmat.float().numpy()))
    with torch.no_grad():
        out = body(shape=shape.float(), rotmat=rotmat.float())
    # both float32 and each within 1e-5 m of the exact values (test_float32_layer_near_anny_float64): 2e-5 m
    np.testing.assert_allclose(vertices, out['vertices'].numpy(), rtol=0, atol=2e-5)
    np.testing.assert_allclose(keypoints, out['keypoints'].numpy(), rtol=0, atol=2e-5)


def test_arrays_cache_file_round_trip(tmp_path, monkeypatch):
    """What ``anny_model_arrays`` writes to its cache file reads back as the same arrays, in the folder that
    ``POSE_PLUGINS_CACHE_DIR`` names (one build per machine; anny's own ~0.8 GB cache is not used)."""
    import dataclasses
    from pose_plugins.body_models import anny_rig
    monkeypatch.setenv('POSE_PLUGINS_CACHE_DIR', str(tmp_path))
    path = anny_rig.arrays_cache_file()
    assert path.parent == tmp_path and path.name.startswith(f'anny-{anny.__version__}-arrays-v')
    arrays = anny_model_arrays()
    np.savez(path, **{f.name: np.asarray(getattr(arrays, f.name)) for f in dataclasses.fields(arrays)})
    with np.load(path, allow_pickle=False) as stored:
        again = anny_rig._arrays_from_npz(stored)
    for field in dataclasses.fields(arrays):
        ours, theirs = getattr(arrays, field.name), getattr(again, field.name)
        if isinstance(ours, tuple):
            assert ours == theirs and type(theirs[0]) is type(ours[0]), field.name
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=field.name)
            assert ours.dtype == theirs.dtype and not theirs.flags.writeable, field.name


def test_joint_weights_gather_unposed_bones_to_their_posed_ancestors(body):
    """(V, J) skinning weights over the posed bones: rows sum to 1 (float32 sums of at most 9 weights: 1e-6), a
    finger's weight goes to the wrist, and with every bone posed they are anny's weights."""
    weights = body.joint_weights()
    assert weights.shape == (body.num_vertices, body.num_joints)
    np.testing.assert_allclose(weights.sum(1).numpy(), 1.0, atol=1e-6)
    wrist = body.joint_names.index('wrist.L')
    bones = anny_model_arrays().bone_labels
    on_finger = anny_model_arrays().vertex_bone_weights[:, bones.index('finger2-2.L')] > 0.5
    assert 'finger2-2.L' not in body.joint_names and on_finger.any() and (weights[torch.from_numpy(on_finger)].argmax(1) == wrist).all()
    every = AnnyBody(posed_bones='all')
    assert torch.equal(every.joint_weights(), every.vertex_bone_weights)
