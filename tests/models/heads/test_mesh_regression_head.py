"""MeshRegressionHead: shapes, gradients to every regressor parameter, mean-parameter start, flip test, learning."""
import numpy as np
import pytest
import torch

from pose_plugins.body_models import NEUTRAL_CAMERA
from pose_plugins.models.heads.mesh_regression_head import MeshRegressionHead
from pose_plugins.synthetic import SyntheticSMPL  # noqa: F401  (registers pose_plugins.SyntheticSMPL)

BODY = dict(type='pose_plugins.SyntheticSMPL')
SIZE = 64


@pytest.fixture(scope='module')
def head():
    """A small head (two feature maps, hidden width 32) on the synthetic body model (built once: ~1 s)."""
    torch.manual_seed(0)
    head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32)
    head.init_weights()
    return head


def _samples(batch):
    """Data samples as mmpose's estimator passes them (the mesh head reads only their number)."""
    from mmpose.structures import PoseDataSample
    return [PoseDataSample(metainfo=dict(flip_indices=list(range(17)), input_size=(SIZE, SIZE)))
            for _ in range(batch)]


def _feats(batch=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, 4, 16, 16, generator=gen), torch.randn(batch, 8, 8, 8, generator=gen))


def _targets(batch, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(keypoint_labels=torch.rand(batch, 17, 2, generator=gen), keypoint_weights=torch.ones(batch, 17),
                keypoints_3d_labels=torch.randn(batch, 51, generator=gen) * 0.3,
                keypoints_3d_weights=torch.ones(batch, 1),
                body_pose_labels=torch.randn(batch, 72, generator=gen) * 0.2,
                body_shape_labels=torch.randn(batch, 10, generator=gen), has_body=torch.ones(batch, 1))


def test_forward_shapes_and_neutral_start(head):
    head.eval()
    out = head(_feats())
    shapes = {k: tuple(v.shape) for k, v in out.items()}
    assert shapes == dict(rotmat=(3, 24, 3, 3), shape=(3, 10), camera=(3, 3), vertices=(3, 6890, 3),
                          joints=(3, 24, 3), keypoints_3d=(3, 17, 3), camera_translation=(3, 3),
                          keypoints_2d=(3, 17, 2), pose_6d=(3, 144))
    # decoders start at xavier gain 0.01: the first estimate is within ~1e-2 of the neutral mean parameters
    assert (out['camera'] - torch.tensor(NEUTRAL_CAMERA)).abs().max() < 0.05
    # upright and facing the camera: head above the pelvis in the image (y down), nose in front (z towards camera)
    kpts = out['keypoints_3d'][0]
    assert kpts[0, 1] < kpts[11, 1] - 0.3 and kpts[0, 2] < kpts[11:13, 2].mean()
    head.train()


def test_gradients_reach_every_regressor_parameter(head):
    head.train()
    head.zero_grad()
    losses = head.loss_terms(head(_feats()), _targets(3))
    assert set(losses) == {'loss_kpt_2d', 'loss_kpt_3d', 'loss_body_pose', 'loss_body_shape', 'loss_vertices',
                           'loss_shape_prior'}
    sum(losses.values()).backward()
    params = dict(head.named_parameters())
    assert set(params) == {f'regressor.{n}.{p}' for n in ('fc1', 'fc2', 'decpose', 'decshape', 'deccam')
                           for p in ('weight', 'bias')}
    dead = [n for n, p in params.items() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not dead, dead


def test_mean_params_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / 'mean.npz'
    pose = np.tile([1.0, 0.0, 0.0, 1.0, 0.0, 0.0], 24) + rng.normal(size=144) * 0.01
    np.savez(path, pose=pose, shape=rng.normal(size=10), cam=np.array([0.8, 0.1, 0.0]))
    head = MeshRegressionHead(body_model=BODY, in_channels=4, input_size=(SIZE, SIZE), hidden_channels=8, mean_params=str(path))
    np.testing.assert_allclose(head.regressor.init_pose.numpy(), pose, rtol=1e-6)  # float32 of the file's values
    assert head.state_dict().keys().isdisjoint({'init_pose', 'init_shape', 'init_cam'})  # not in checkpoints
    np.savez(tmp_path / 'bad.npz', pose=pose[:100], shape=np.zeros(10), cam=np.zeros(3))
    with pytest.raises(ValueError, match=r'bad.npz: "pose" has 100 values'):
        MeshRegressionHead(body_model=BODY, in_channels=4, input_size=(SIZE, SIZE), mean_params=str(tmp_path / 'bad.npz'))
    with pytest.raises(ValueError, match='square crop'):
        MeshRegressionHead(body_model=BODY, in_channels=4, input_size=(48, 64))


def test_flip_back_mirrors_the_projected_body(head):
    """The parameters of a mirrored crop, mirrored back (flip test), give the mirror image of the body: 2D
    keypoints at ``x -> SIZE - 1 - x`` with left and right swapped, and the same root-relative depth."""
    from pose_plugins.synthetic import COCO_FLIP_INDICES
    gen = torch.Generator().manual_seed(3)
    rotmat = head.forward(_feats(2, seed=3))['rotmat'].detach()
    params = dict(rotmat=rotmat, shape=torch.randn(2, 10, generator=gen) * 0.5,
                  camera=torch.tensor([[0.9, 0.05, -0.1], [1.1, -0.2, 0.1]]))
    original = head.body(params['rotmat'], params['shape'], params['camera'])
    back = head.flip_back(params, {}, {})
    mirrored = head.body(back['rotmat'], back['shape'], back['camera'])
    px = original['keypoints_2d'] * SIZE
    expected = torch.stack([SIZE - 1 - px[..., 0], px[..., 1]], -1)[:, list(COCO_FLIP_INDICES)]
    # the synthetic body is mirror-symmetric to float32 rounding; the projection's depth term differs by
    # |X| * tx / tz ~ 1e-4 px between the two sides; 0.02 px is far below a pixel
    torch.testing.assert_close(mirrored['keypoints_2d'] * SIZE, expected, atol=0.02, rtol=0)
    twice = head.flip_back(back, {}, {})
    for key in params:
        torch.testing.assert_close(twice[key], params[key], atol=1e-5, rtol=0)


def test_predict_with_flip_test(head):
    head.eval()
    feats = _feats(2)
    plain = head.predict(feats, _samples(2))
    flipped = head.predict([feats, tuple(f.flip(-1) for f in feats)], _samples(2), dict(flip_test=True))
    assert len(flipped) == 2
    for p, f in zip(plain, flipped):
        assert set(f.keys()) == {'keypoints', 'keypoint_scores', 'keypoints_3d', 'vertices', 'body_pose', 'body_rotmat',
                                 'body_shape', 'camera', 'camera_translation'}
        assert f.keypoints.shape == (1, 17, 2) and f.body_pose.shape == (1, 72) and f.vertices.shape == (1, 6890, 3)
        r = f.body_rotmat[0]
        np.testing.assert_allclose(r @ r.transpose(0, 2, 1), np.broadcast_to(np.eye(3), r.shape), atol=1e-5)
        assert np.all(f.keypoint_scores == 1)
    with pytest.raises(ValueError, match='flip_test expects feats'):
        head.predict(feats, _samples(2), dict(flip_test=True))
    head.train()


def test_losses_fall_when_fitting_a_batch():
    """A short training run: 30 Adam steps on one batch whose targets are one consistent body (SMPL parameters
    -> 3D and projected keypoints, 0.3-rad random joint rotations away from the start). Seeds 0 / 1 of the head
    ended at (last / first): 2D 0.343 / 0.347, 3D 0.243 / 0.242, pose 0.756 / 0.750 (the betas term, weight 0.2,
    is traded against the joint terms in so few steps and not checked); thresholds 0.5, 0.4, 0.9."""
    from pose_plugins.geometry import matrix_to_axis_angle
    torch.manual_seed(0)
    head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32, dropout=0.0)
    head.init_weights()
    feats = _feats(2, seed=5)
    with torch.no_grad():  # ground truth: the head's own start, pose and shape perturbed
        start = head(feats)
        gen = torch.Generator().manual_seed(5)
        rotmat = head.forward(_feats(2, seed=6))['rotmat']
        rotmat = torch.linalg.matrix_exp(0.3 * (lambda a: a - a.transpose(-1, -2))(
            torch.randn(2, 24, 3, 3, generator=gen))) @ start['rotmat']
        gt = head.body(rotmat, torch.randn(2, 10, generator=gen), torch.tensor([[0.8, 0.1, 0.0], [1.0, -0.1, 0.1]]))
    targets = dict(keypoint_labels=gt['keypoints_2d'], keypoint_weights=torch.ones(2, 17),
                   keypoints_3d_labels=gt['keypoints_3d'].reshape(2, -1), keypoints_3d_weights=torch.ones(2, 1),
                   body_pose_labels=matrix_to_axis_angle(rotmat).reshape(2, 72), body_shape_labels=gt['shape'],
                   has_body=torch.ones(2, 1))
    optim = torch.optim.Adam(head.parameters(), lr=1e-3)
    first = None
    for _ in range(30):
        losses = head.loss_terms(head(feats), targets)
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
        first = first or {k: v.item() for k, v in losses.items()}
    for key, bound in (('loss_kpt_2d', 0.5), ('loss_kpt_3d', 0.4), ('loss_body_pose', 0.9)):
        assert losses[key].item() < bound * first[key], (key, first[key], losses[key].item())


def test_grid_pooling_keeps_where_features_are():
    """``pooled_size`` s: each map averaged over s x s cells (block means), flattened channel-major and
    concatenated; a map smaller than the grid repeats its values; fc1 takes C s^2 features."""
    head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32, pooled_size=2)
    feats = (torch.randn(3, 4, 16, 16), torch.randn(3, 8, 1, 1))
    pooled = head.pool_features(feats)
    assert pooled.shape == (3, (4 + 8) * 4) and head.regressor.fc1.in_features == (4 + 8) * 4 + 144 + 10 + 3
    blocks = feats[0].reshape(3, 4, 2, 8, 2, 8).mean(dim=(3, 5)).reshape(3, 16)  # (cell row, cell column)
    torch.testing.assert_close(pooled[:, :16], blocks)
    torch.testing.assert_close(pooled[:, 16:], feats[1].reshape(3, 8, 1).expand(-1, -1, 4).reshape(3, 32))
    assert head(feats)['shape'].shape == (3, 10)
    with pytest.raises(ValueError, match='pooled_size must be an int >= 1'):
        MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), pooled_size=0)


def test_auxiliary_heatmaps_are_msra_targets_of_the_2d_labels():
    """``auxiliary_heatmaps``: a 1x1 convolution of the first map predicts the 17 keypoints' heatmaps, trained
    against the MSRA targets that pose_plugins.MSRAHeatmap encodes for the crop (input 64x64 -> the first map's
    16x16), masked by the keypoint weights. Hand-checked: the loss of the targets themselves is 0 (whatever an
    invisible keypoint's channel holds), and of all-zero maps ``w * mean(weight * target^2)``."""
    from pose_plugins.codecs import MSRAHeatmap
    torch.manual_seed(0)
    head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32,
                              auxiliary_heatmaps=dict(sigma=1.0))
    head.init_weights()
    targets = _targets(2)
    targets['keypoint_labels'] = targets['keypoint_labels'] * 0.8 + 0.1  # inside the crop
    targets['keypoint_weights'][1, 3] = 0.0  # an invisible keypoint
    codec = MSRAHeatmap(input_size=(SIZE, SIZE), heatmap_size=(16, 16), sigma=1.0)
    encoded = [codec.encode(targets['keypoint_labels'][i:i + 1].numpy() * SIZE,
                            targets['keypoint_weights'][i:i + 1].numpy()) for i in range(2)]
    wanted = torch.from_numpy(np.stack([e['heatmaps'] for e in encoded]))
    weights = torch.from_numpy(np.stack([e['keypoint_weights'][0] for e in encoded]))
    assert weights[1, 3] == 0 and weights.sum() == 33
    exact = wanted.clone()
    exact[1, 3] = 5.0  # the invisible keypoint's channel does not count
    assert head.auxiliary_heatmap_loss(exact, targets).item() == pytest.approx(0.0, abs=1e-9)
    zero = head.auxiliary_heatmap_loss(torch.zeros_like(wanted), targets).item()
    # both float32 means of the same 2 x 17 x 16 x 16 = 8704 non-negative products, summed in different orders by
    # torch's blocked pairwise reduction: each within ~log2(8704) * 2^-24 ~ 8e-7 relative, so 1e-5 has margin
    assert zero == pytest.approx(1000.0 * float((weights[..., None, None] * wanted**2).mean()), rel=1e-5)

    head.train()
    out = head(_feats(2))
    assert out['heatmaps'].shape == (2, 17, 16, 16)
    losses = head.loss_terms(out, targets)
    assert 'loss_heatmaps' in losses
    sum(losses.values()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.keypoint_heatmaps.parameters())
    for bad in (dict(sigma=0.0), dict(sigma=1.0, weight=2.0), dict()):
        with pytest.raises(ValueError, match='auxiliary_heatmaps must be'):
            MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), auxiliary_heatmaps=bad)


def test_keypoint_attention_regresses_from_the_pooled_keypoints():
    """``keypoint_attention``: the regressor's input is the maps pooled under each of the 17 auxiliary heatmaps
    plus their centres (17 * (4 + 8 + 2) values), the same as the layer computes; gradients of the 3D and SMPL
    terms alone reach the heatmap branch (PARE trains the attention through the regressor too); flip test and
    predict work; the option needs the heatmaps and the global pooling."""
    from pose_plugins.models.layers.keypoint_attention import keypoint_attention_pool
    torch.manual_seed(0)
    head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32,
                              auxiliary_heatmaps=dict(sigma=1.0), keypoint_attention=True)
    head.init_weights()
    assert head.regressor.fc1.in_features == 17 * (4 + 8 + 2) + 144 + 10 + 3
    feats = _feats(2)
    heatmaps = head.keypoint_heatmaps(feats[0])
    pooled, centres = keypoint_attention_pool(feats, heatmaps)
    torch.testing.assert_close(head.pool_features(feats), torch.cat([pooled.flatten(1), centres.flatten(1)], 1))
    torch.testing.assert_close(head.pool_features(feats, heatmaps), head.pool_features(feats))
    head.train()
    out = head(feats)
    losses = head.loss_terms(out, _targets(2))
    (losses['loss_kpt_3d'] + losses['loss_body_pose']).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.keypoint_heatmaps.parameters())
    head.eval()
    preds = head.predict([feats, tuple(torch.flip(f, [3]) for f in feats)], _samples(2), dict(flip_test=True))
    assert len(preds) == 2 and preds[0].keypoints.shape == (1, 17, 2)
    assert all(np.isfinite(p.vertices).all() for p in preds)
    for kwargs in (dict(), dict(auxiliary_heatmaps=dict(sigma=1.0), pooled_size=2)):
        with pytest.raises(ValueError, match='keypoint_attention=True pools under the auxiliary heatmaps'):
            MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), keypoint_attention=True, **kwargs)


def test_regressor_inputs_lift_the_local_centres():
    """``regressor_inputs=('centres', 'normalised_centres')`` with ``centre_radius``: the regressor sees the 17
    local centres and their normalised copy (17 * 4 values) and nothing of the pooled features, as the layer
    computes them; a frozen 2D model's heatmaps (no gradient into them) still train the regressor; bad values name
    the argument."""
    from pose_plugins.models.layers.keypoint_attention import local_centres, normalise_centres
    torch.manual_seed(0)
    head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32,
                              auxiliary_heatmaps=dict(sigma=1.0), keypoint_attention=True,
                              regressor_inputs=('centres', 'normalised_centres'), centre_radius=2)
    head.init_weights()
    assert head.regressor.fc1.in_features == 17 * 4 + 144 + 10 + 3
    feats = _feats(2)
    heatmaps = head.keypoint_heatmaps(feats[0])
    centres = local_centres(heatmaps, 2)
    torch.testing.assert_close(head.pool_features(feats),
                               torch.cat([centres.flatten(1), normalise_centres(centres).flatten(1)], 1))
    head.keypoint_heatmaps.requires_grad_(False)
    head.train()
    losses = head.loss_terms(head(feats), _targets(2))
    sum(losses.values()).backward()
    regressor = list(head.regressor.children())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for m in regressor for p in m.parameters())
    assert all(p.grad is None for p in head.keypoint_heatmaps.parameters())
    attention = dict(auxiliary_heatmaps=dict(sigma=1.0), keypoint_attention=True)
    for bad in (dict(regressor_inputs=()), dict(regressor_inputs=('centres', 'centres')),
                dict(regressor_inputs=('pixels', )), dict(regressor_inputs=('centres', ), keypoint_attention=False)):
        with pytest.raises(ValueError, match='regressor_inputs must be distinct entries'):
            MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), **dict(attention, **bad))
    for bad in (dict(centre_radius=-1), dict(centre_radius=2.0), dict(centre_radius=1, keypoint_attention=False)):
        with pytest.raises(ValueError, match='centre_radius must be None or an int >= 0'):
            MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), **dict(attention, **bad))


def test_a_2d_heatmap_checkpoint_starts_the_auxiliary_heatmaps():
    """A 2D heatmap model's state dict (``head.final_layer``: 1x1 conv, first map -> 17 keypoints) loaded into a
    mesh model with ``auxiliary_heatmaps`` fills ``keypoint_heatmaps`` exactly, through torch's and mmengine's
    loaders; the mesh model's own ``keypoint_heatmaps`` wins over a ``final_layer`` beside it; a ``final_layer``
    of another shape, or a head without the heatmaps, leaves it an unexpected key and changes nothing."""
    from mmengine.runner.checkpoint import load_state_dict
    torch.manual_seed(0)
    head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32,
                              auxiliary_heatmaps=dict(sigma=1.0), keypoint_attention=True)
    wrapper = torch.nn.Module()
    wrapper.head = head
    final = dict(weight=torch.randn(17, 4, 1, 1), bias=torch.randn(17))
    two_d = {f'head.final_layer.{k}': v for k, v in final.items()}
    result = wrapper.load_state_dict(two_d, strict=False)
    assert not result.unexpected_keys and 'head.regressor.fc1.weight' in result.missing_keys
    assert torch.equal(head.keypoint_heatmaps.weight, final['weight'])
    assert torch.equal(head.keypoint_heatmaps.bias, final['bias'])

    other = {k: v + 1.0 for k, v in final.items()}
    load_state_dict(wrapper, dict(two_d, **{f'head.keypoint_heatmaps.{k}': v for k, v in other.items()}))
    assert torch.equal(head.keypoint_heatmaps.weight, other['weight'])  # its own layer, not the 2D one

    before = head.keypoint_heatmaps.weight.clone()
    wrong = {'head.final_layer.weight': torch.randn(17, 8, 1, 1), 'head.final_layer.bias': torch.randn(17)}
    assert sorted(wrapper.load_state_dict(wrong, strict=False).unexpected_keys) == sorted(wrong)
    assert torch.equal(head.keypoint_heatmaps.weight, before)
    plain = torch.nn.Module()
    plain.head = MeshRegressionHead(body_model=BODY, in_channels=(4, 8), input_size=(SIZE, SIZE), hidden_channels=32)
    assert sorted(plain.load_state_dict(two_d, strict=False).unexpected_keys) == sorted(two_d)
