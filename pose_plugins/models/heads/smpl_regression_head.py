"""SMPL regression head: pooled multi-branch features -> iterative error feedback -> SMPL pose, shape, camera.

Kanazawa, Black, Jacobs, Malik, "End-to-end Recovery of Human Shape and Pose", CVPR 2018 (HMR,
https://arxiv.org/abs/1712.06584): regress SMPL's pose ``theta``, shape ``beta`` and a weak-perspective camera from
pooled image features by iterative error feedback -- concatenate the features with the current estimate, two
fully-connected layers (1024, dropout), add the predicted residual, three times, starting from mean parameters.
Kolotouros, Pavlakos, Black, Daniilidis, "Learning to Reconstruct 3D Human Pose and Shape via Model-fitting in the
Loop", ICCV 2019 (SPIN, https://arxiv.org/abs/1909.12828): rotations in the 6D representation (Zhou et al., CVPR
2019; :mod:`pose_plugins.models.layers.rotation_6d`), decoders initialised small (xavier, gain 0.01), the camera
as a translation ``(tx, ty, 2 f / (res s))`` with ``f = 5000`` (:mod:`~pose_plugins.models.layers.
weak_perspective_camera`). The "feat_list" of an HRNet (Sun et al., CVPR 2019) in the SMPL setting: every branch
is average-pooled and the vectors are concatenated, so the regressor sees all resolutions. Optionally (Kocabas et
al., PARE, ICCV 2021) every branch is pooled under each keypoint's auxiliary heatmap instead.

What differs from mmpose 0.x's ``HMRMeshHead``: rotations are 6D (HMR's were axis-angle), the body model lives in
the head (so ``predict`` returns joints, vertices and the 2D keypoints of mmpose's top-down contract), and the
losses are this head's (:meth:`loss_terms`) instead of a separate ``MeshLoss`` module.
"""
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.model import normal_init
from mmengine.structures import InstanceData
from mmpose.utils.typing import ConfigType, Features, OptConfigType, OptSampleList, Predictions
from torch import Tensor, nn

from pose_plugins.codecs.utils.batch_encode import gaussian_heatmaps_tensor
from pose_plugins.models.body_models.smpl_format import SMPL_JOINT_NAMES, SMPL_NUM_JOINTS
from pose_plugins.models.heads.base_pose_head import BasePoseHead
from pose_plugins.models.layers.keypoint_attention import keypoint_attention_pool, normalise_centres
from pose_plugins.models.layers.rotation_6d import (axis_angle_to_matrix, matrix_to_axis_angle,
                                                    matrix_to_rotation_6d, mirror_rotations, rotation_6d_to_matrix)
from pose_plugins.models.layers.weak_perspective_camera import camera_translation, project_points
from pose_plugins.registry import MODELS

__all__ = ['SMPLRegressionHead', 'SMPL_FLIP_INDICES', 'NEUTRAL_MEAN_PARAMS']

#: Mirror partner of each of SMPL's 24 joints (left_X <-> right_X of :data:`SMPL_JOINT_NAMES`).
SMPL_FLIP_INDICES: Tuple[int, ...] = tuple(
    SMPL_JOINT_NAMES.index(name.replace('left_', '@').replace('right_', 'left_').replace('@', 'right_'))
    for name in SMPL_JOINT_NAMES)
#: The documented neutral start when no mean-parameter file is given: the body upright and facing the camera
#: (global orientation a half turn about x, from SMPL's y-up frame to the camera's y-down one), every other joint
#: at rest, the mean shape, and SPIN's mean camera (s = 0.9: the body fills 90 % of the crop's half-width per
#: metre; no offset).
NEUTRAL_MEAN_PARAMS: Mapping[str, Tuple[float, ...]] = MappingProxyType(dict(
    global_orient_6d=(1.0, 0.0, 0.0, -1.0, 0.0, 0.0), body_pose_6d=(1.0, 0.0, 0.0, 1.0, 0.0, 0.0),
    camera=(0.9, 0.0, 0.0)))
#: What the regressor can see with ``keypoint_attention`` (``regressor_inputs``), and PARE's default.
REGRESSOR_INPUTS: Tuple[str, ...] = ('features', 'centres', 'normalised_centres')
ATTENTION_INPUTS: Tuple[str, ...] = ('features', 'centres')
#: Default body model (the synthetic SMPL-format model unless ``model_path`` is given).
DEFAULT_BODY_MODEL: Mapping[str, Any] = MappingProxyType(dict(type='pose_plugins.SMPL'))
_NUM_SMPL_JOINTS = SMPL_NUM_JOINTS


def _loss(cfg: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(cfg))


#: Reference loss settings, mmpose 0.x's HMR (``res50_mixed_224x224.py``: 2D 100, 3D 1000, vertices 20, pose 30,
#: betas 0.2) and SPIN's shape prior (0.001). The 2D term is on coordinates in [-1, 1] as there.
DEFAULT_LOSSES: Mapping[str, Mapping[str, Any]] = MappingProxyType(dict(
    loss_keypoints_2d=_loss(dict(type='pose_plugins.MaskedRegressionLoss', criterion='smooth_l1', loss_weight=100.)),
    loss_keypoints_3d=_loss(dict(type='pose_plugins.RootRelativeJointLoss', loss_weight=1000.)),
    loss_smpl_pose=_loss(dict(type='pose_plugins.MaskedRegressionLoss', criterion='mse', loss_weight=30.)),
    loss_smpl_betas=_loss(dict(type='pose_plugins.MaskedRegressionLoss', criterion='mse', loss_weight=0.2)),
    loss_vertices=_loss(dict(type='pose_plugins.MaskedRegressionLoss', criterion='l1', loss_weight=20.)),
    loss_shape_prior=_loss(dict(type='pose_plugins.ShapePriorLoss', loss_weight=0.001))))
#: The loss of the optional auxiliary keypoint heatmaps (``auxiliary_heatmaps``) when its config names none.
DEFAULT_HEATMAP_LOSS: Mapping[str, Any] = _loss(dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True,
                                                     loss_weight=1000.))


@MODELS.register_module()
class SMPLRegressionHead(BasePoseHead):
    """HMR / SPIN iterative regressor of SMPL parameters and a weak-perspective camera, with the body model.

    ``forward``: every feature map is average-pooled and the vectors concatenated (C = sum of ``in_channels``;
    ``pooled_size`` and ``keypoint_attention`` pool differently, see Args);
    ``num_iterations`` times: ``[features, pose 6D, betas, camera]`` -> ``fc1`` (1024) -> ReLU -> dropout ->
    ``fc2`` (1024) -> ReLU -> dropout -> ``decpose`` / ``decshape`` / ``deccam`` residuals added to the estimate.
    The start is the mean parameters of ``mean_params`` (a SPIN-format ``.npz``: ``pose`` (144,) 6D in SPIN's
    layout, ``shape`` (10,), ``cam`` (3,)) or :data:`NEUTRAL_MEAN_PARAMS`; kept as non-persistent buffers. The
    6D pose becomes 24 rotation matrices (Gram-Schmidt), the body model gives vertices, its 24 joints and COCO's
    17 keypoints, and the crop camera (``f = focal_length``, translation ``(tx, ty, 2 f / (res s))``) projects the
    17 keypoints into the crop.

    ``predict`` returns per instance ``keypoints`` (1, 17, 2) in crop pixels (mmpose's estimator maps them to
    the image through ``input_center`` / ``input_scale``, so ``CocoMetric`` scores them like any pose model's)
    with ``keypoint_scores`` (1, 17) all 1 (a regressor has no per-keypoint confidence), ``keypoints_3d`` (1, 17,
    3) and ``vertices`` (1, V, 3) in metres in the body model's frame turned by the global orientation (no
    translation; what ``pose_plugins.MeshMetric`` compares root-aligned), ``smpl_pose`` (1, 72) axis-angle,
    ``smpl_rotmat`` (1, 24, 3, 3), ``smpl_betas`` (1, 10), ``camera`` (1, 3) ``(s, tx, ty)`` and
    ``camera_translation`` (1, 3) in metres.

    Flip test (``test_cfg['flip_test']``): the mirrored crop is regressed too and its parameters are mirrored
    back -- every rotation ``R -> M R M`` with ``M = diag(-1, 1, 1)`` (axis-angle ``(x, -y, -z)``) and left and
    right joints swapped (:data:`SMPL_FLIP_INDICES`); betas unchanged; camera ``tx -> -tx - 2 / (res s)`` (the
    image flip maps pixel ``x`` to ``res - 1 - x``, one pixel off a mirror about the crop centre), ``s``, ``ty``
    unchanged. The two estimates are averaged (rotations: mean matrix, re-orthonormalised through its 6D part) and
    the body model runs once on the average, so keypoints, joints and mesh stay one consistent body.

    Training (:meth:`loss_terms`, reference weights :data:`DEFAULT_LOSSES`): 2D reprojection of the 17 keypoints
    masked by visibility; root-relative 3D keypoints where the sample has them; SMPL pose (rotation matrices) and
    betas, and optionally the vertices of the ground-truth parameters, only where ``has_smpl``; the shape prior.

    Note:
        - B: batch size (one instance per top-down crop)
        - C_b: channels of feature map b; C = sum of C_b
        - K: 17 COCO keypoints; J: 24 SMPL joints; V: the body model's vertices (6890); S: ``num_betas``

    Args:
        in_channels (int | Sequence[int]): Channels of each feature map given to the head (HRNet with
            ``multiscale_output=True``: every branch, e.g. ``(32, 64, 128, 256)`` for W32).
        input_size (Tuple[int, int]): Crop ``(w, h)`` in pixels; must be square (the weak-perspective camera has
            one scale).
        body_model (dict): Config of the body model, built by :data:`~pose_plugins.registry.MODELS`. Defaults to
            ``dict(type='pose_plugins.SMPL')`` (no ``model_path``: the synthetic SMPL-format model).
        num_betas (int): Shape coefficients S. Defaults to 10.
        hidden_channels (int): Width of ``fc1`` / ``fc2``. Defaults to 1024.
        num_iterations (int): Iterative error feedback steps. Defaults to 3.
        dropout (float): Dropout after ``fc1`` and ``fc2``. Defaults to 0.5 (HMR / SPIN).
        pooled_size (int): Each feature map is average-pooled to ``pooled_size`` x ``pooled_size`` cells before the
            regressor. Defaults to 1: HMR's global average. A grid keeps where things are in the crop, which a
            small network trained briefly may not encode in channels alone (README "Human mesh recovery": what it
            gave on the CPU demo's data).
        auxiliary_heatmaps (dict, optional): ``dict(sigma=..., loss=...)`` adds a 1x1 convolution that predicts
            the K keypoints' heatmaps from the first feature map, trained against MSRA Gaussian targets (``sigma``
            in that map's pixels) of the 2D labels, rendered on the batch's device (:meth:`auxiliary_heatmap_loss`;
            ``loss`` defaults to :data:`DEFAULT_HEATMAP_LOSS`) -- dense 2D supervision for the backbone, as the
            auxiliary keypoint heatmaps of PyMAF / PARE. Used by ``predict`` only with ``keypoint_attention``.
            ``None`` (default): none (HMR / SPIN).
        keypoint_attention (bool): PARE's keypoint attention (Kocabas et al., ICCV 2021;
            :mod:`pose_plugins.models.layers.keypoint_attention`) instead of average pooling: every feature map is
            pooled under each keypoint's auxiliary heatmap (its positive part normalised to sum 1), and the
            regressor sees the K pooled vectors and the K attention centres ``(x, y)`` (K * C + 2 K values).
            Needs ``auxiliary_heatmaps`` and ``pooled_size=1``. Defaults to False (HMR / SPIN).
        regressor_inputs (Sequence[str]): With ``keypoint_attention``, what the regressor sees, any of
            ``'features'`` (the K pooled vectors, K * C values), ``'centres'`` (the K attention centres in crop
            coordinates ``[-1, 1]``, 2 K) and ``'normalised_centres'`` (the centres less their mean over their RMS
            spread, 2 K: the 2D pose's shape without its place and size in the crop; 2D-to-3D lifting normalises
            its input too, Martinez et al. ICCV 2017). Defaults to ``('features', 'centres')`` (PARE's keypoint
            attention). ``('centres', 'normalised_centres')`` with a frozen 2D model is a 2D-to-3D lifter on the
            heatmaps' keypoints (README "Human mesh recovery").
        centre_radius (int, optional): With ``keypoint_attention``, the centres are taken within ``centre_radius``
            cells of each heatmap's maximum (a local soft-argmax, :func:`~pose_plugins.models.layers.
            keypoint_attention.local_centres`) instead of over the whole attention. Defaults to None (whole).
        mean_params (str, optional): SPIN-format ``.npz`` of mean parameters; ``None``: :data:`NEUTRAL_MEAN_PARAMS`.
        focal_length (float): Focal length of the crop camera in pixels. Defaults to 5000 (SPIN).
        root_indices (Sequence[int]): Keypoints whose mean is the root of the 3D terms. Defaults to ``(11, 12)``.
        loss_keypoints_2d, loss_keypoints_3d, loss_smpl_pose, loss_smpl_betas, loss_vertices, loss_shape_prior
            (dict, optional): Loss configs; a term's entry in :data:`DEFAULT_LOSSES` when not given;
            ``loss_vertices=dict(type=None)`` (or any config with ``loss_weight=0``) switches the vertex term off.
        init_cfg (dict | list[dict], optional): ``None``: xavier-uniform with gain 0.01 for the three decoders
            (SPIN), PyTorch's default for ``fc1`` / ``fc2``.

    Shapes:
        - forward input: tuple of feature maps (B, C_b, H_b, W_b)
        - forward output: dict, see :meth:`forward`
    """

    def __init__(self,
                 *,
                 in_channels: Union[int, Sequence[int]],
                 input_size: Tuple[int, int],
                 body_model: ConfigType = DEFAULT_BODY_MODEL,
                 num_betas: int = 10,
                 hidden_channels: int = 1024,
                 num_iterations: int = 3,
                 dropout: float = 0.5,
                 mean_params: Optional[str] = None,
                 focal_length: float = 5000.0,
                 root_indices: Sequence[int] = (11, 12),
                 pooled_size: int = 1,
                 auxiliary_heatmaps: OptConfigType = None,
                 keypoint_attention: bool = False,
                 regressor_inputs: Sequence[str] = ATTENTION_INPUTS,
                 centre_radius: Optional[int] = None,
                 loss_keypoints_2d: OptConfigType = None,
                 loss_keypoints_3d: OptConfigType = None,
                 loss_smpl_pose: OptConfigType = None,
                 loss_smpl_betas: OptConfigType = None,
                 loss_vertices: OptConfigType = None,
                 loss_shape_prior: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(decoder=None, init_cfg=init_cfg)
        channels = (in_channels, ) if isinstance(in_channels, int) else tuple(in_channels)
        if not channels or not all(isinstance(c, int) and c > 0 for c in channels):
            raise ValueError(f'SMPLRegressionHead: in_channels must be a positive int or a sequence of them (one '
                             f'per feature map), got {in_channels!r}')
        if len(input_size) != 2 or input_size[0] != input_size[1] or input_size[0] <= 0:
            raise ValueError(f'SMPLRegressionHead: input_size must be a square crop (w, h) with w == h > 0 (the '
                             f'weak-perspective camera has one scale), got {tuple(input_size)!r}')
        for name, value, low in (('num_betas', num_betas, 1), ('hidden_channels', hidden_channels, 1),
                                 ('num_iterations', num_iterations, 1), ('pooled_size', pooled_size, 1)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f'SMPLRegressionHead: {name} must be an int >= {low}, got {value!r}')
        self.in_channels = channels
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.num_betas = num_betas
        self.num_iterations = num_iterations
        self.focal_length = float(focal_length)
        self.root_indices = tuple(root_indices)
        self.pooled_size = pooled_size
        if keypoint_attention and (auxiliary_heatmaps is None or pooled_size != 1):
            raise ValueError(f'SMPLRegressionHead: keypoint_attention=True pools under the auxiliary heatmaps: it '
                             f'needs auxiliary_heatmaps=dict(sigma=...) and pooled_size=1, got auxiliary_heatmaps='
                             f'{auxiliary_heatmaps!r}, pooled_size={pooled_size!r}')
        self.keypoint_attention = bool(keypoint_attention)
        inputs = (regressor_inputs, ) if isinstance(regressor_inputs, str) else tuple(regressor_inputs)
        if (not inputs or len(set(inputs)) != len(inputs) or not set(inputs) <= set(REGRESSOR_INPUTS)
                or (inputs != ATTENTION_INPUTS and not self.keypoint_attention)):
            raise ValueError(f'SMPLRegressionHead: regressor_inputs must be distinct entries of {REGRESSOR_INPUTS} '
                             f'(other than the default {ATTENTION_INPUTS} only with keypoint_attention=True), got '
                             f'{regressor_inputs!r}')
        if centre_radius is not None and (not self.keypoint_attention or not isinstance(centre_radius, int)
                                          or isinstance(centre_radius, bool) or centre_radius < 0):
            raise ValueError(f'SMPLRegressionHead: centre_radius must be None or an int >= 0, and needs '
                             f'keypoint_attention=True, got {centre_radius!r}')
        self.regressor_inputs = inputs
        self.centre_radius = centre_radius
        self.body_model = MODELS.build(dict(body_model))
        self.heatmap_sigma, self.keypoint_heatmaps, self.loss_heatmaps = None, None, None
        if auxiliary_heatmaps is not None:
            aux = dict(auxiliary_heatmaps)
            unknown = set(aux) - {'sigma', 'loss'}
            if unknown or not isinstance(aux.get('sigma'), (int, float)) or aux['sigma'] <= 0:
                raise ValueError(f'SMPLRegressionHead: auxiliary_heatmaps must be dict(sigma=<float > 0>[, loss=...]), '
                                 f'got {auxiliary_heatmaps!r}')
            self.heatmap_sigma = float(aux['sigma'])
            self.keypoint_heatmaps = self.build_final_layer(channels[0], len(self.body_model.keypoint_index))
            normal_init(self.keypoint_heatmaps, std=0.001, bias=0)  # as the heatmap heads' final layer
            self.loss_heatmaps = MODELS.build(dict(aux.get('loss', DEFAULT_HEATMAP_LOSS)))

        npose = 6 * _NUM_SMPL_JOINTS
        num_keypoints = len(self.body_model.keypoint_index)
        widths = dict(features=sum(channels), centres=2, normalised_centres=2)
        num_features = (num_keypoints * sum(widths[name] for name in inputs) if self.keypoint_attention else
                        sum(channels) * pooled_size**2)
        self.fc1 = nn.Linear(num_features + npose + num_betas + 3, hidden_channels)
        self.drop1 = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden_channels, hidden_channels)
        self.drop2 = nn.Dropout(dropout)
        self.decpose = nn.Linear(hidden_channels, npose)
        self.decshape = nn.Linear(hidden_channels, num_betas)
        self.deccam = nn.Linear(hidden_channels, 3)
        pose, shape, cam = self._mean_params(mean_params, num_betas)
        self.register_buffer('init_pose', pose, persistent=False)
        self.register_buffer('init_shape', shape, persistent=False)
        self.register_buffer('init_cam', cam, persistent=False)

        given = dict(loss_keypoints_2d=loss_keypoints_2d, loss_keypoints_3d=loss_keypoints_3d,
                     loss_smpl_pose=loss_smpl_pose, loss_smpl_betas=loss_smpl_betas, loss_vertices=loss_vertices,
                     loss_shape_prior=loss_shape_prior)
        for name, cfg in given.items():
            cfg = dict(DEFAULT_LOSSES[name] if cfg is None else cfg)
            setattr(self, name, None if cfg.get('type') is None or cfg.get('loss_weight', 1.0) == 0
                    else MODELS.build(cfg))

    @staticmethod
    def default_init_cfg() -> dict:
        """SPIN's init: xavier-uniform, gain 0.01, for the pose, shape and camera decoders (a new dict per call)."""
        return dict(type='Xavier', gain=0.01, distribution='uniform',
                    override=[dict(name='decpose'), dict(name='decshape'), dict(name='deccam')])

    @staticmethod
    def _mean_params(path: Optional[str], num_betas: int) -> Tuple[Tensor, Tensor, Tensor]:
        """Start parameters: pose (144,) 6D, shape (S,), camera (3,) -- from ``path`` or the neutral start."""
        if path is None:
            neutral = NEUTRAL_MEAN_PARAMS
            pose = torch.tensor(neutral['global_orient_6d'] + neutral['body_pose_6d'] * (_NUM_SMPL_JOINTS - 1))
            return pose, torch.zeros(num_betas), torch.tensor(neutral['camera'])
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: np.asarray(data[key], dtype=np.float32).reshape(-1) for key in ('pose', 'shape', 'cam')}
        except KeyError as err:
            raise ValueError(f'SMPLRegressionHead: mean_params {path} has no array {err} (a SPIN-format .npz needs '
                             '"pose" (144,), "shape" (10,) and "cam" (3,))') from err
        except (OSError, ValueError) as err:
            raise ValueError(f'SMPLRegressionHead: mean_params {path} is not a readable .npz ({err})') from err
        expected = dict(pose=6 * _NUM_SMPL_JOINTS, shape=num_betas, cam=3)
        for key, size in expected.items():
            if arrays[key].size != size or not np.isfinite(arrays[key]).all():
                raise ValueError(f'SMPLRegressionHead: mean_params {path}: "{key}" has {arrays[key].size} values '
                                 f'(finite: {bool(np.isfinite(arrays[key]).all())}); expected {size} finite values')
        return tuple(torch.from_numpy(arrays[key]) for key in ('pose', 'shape', 'cam'))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Also loads a 2D heatmap model's keypoint layer into the auxiliary heatmaps.

        A top-down heatmap model's checkpoint (e.g. HRNet + ``HeatmapHead``, whose ``final_layer`` is a 1x1
        convolution from the first feature map to the 17 COCO keypoints) given as ``load_from`` then starts the
        backbone and ``keypoint_heatmaps`` together, so keypoint attention pools at the keypoints from the first
        iteration. PARE (Kocabas et al., ICCV 2021) starts the same way, from an HRNet trained for 2D pose.

        The layer is taken only when this head has ``auxiliary_heatmaps``, the checkpoint has no
        ``keypoint_heatmaps`` of its own, and the shapes match. Otherwise ``final_layer`` stays an unexpected
        key, which mmengine's non-strict load reports.
        """
        if self.keypoint_heatmaps is not None and prefix + 'keypoint_heatmaps.weight' not in state_dict:
            ours = self.keypoint_heatmaps.state_dict()
            theirs = {name: state_dict.get(prefix + 'final_layer.' + name) for name in ours}
            if all(value is not None and value.shape == ours[name].shape for name, value in theirs.items()):
                for name, value in theirs.items():
                    del state_dict[prefix + 'final_layer.' + name]
                    state_dict[prefix + 'keypoint_heatmaps.' + name] = value
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ---- forward ----------------------------------------------------------------------------------------------

    def pool_features(self, feats: Features, heatmaps: Optional[Tensor] = None) -> Tensor:
        """The "feat_list": each map (B, C_b, H_b, W_b) average-pooled to ``pooled_size`` x ``pooled_size`` cells
        (1: HMR's global average), flattened and concatenated -> (B, C * pooled_size^2); with
        ``keypoint_attention``, the maps pooled under each keypoint's ``heatmaps`` (B, K, H_0, W_0) (computed from
        ``feats[0]`` when not given) and the attention centres -> (B, K * C + 2 K), or what ``regressor_inputs``
        names, in its order."""
        if len(feats) != len(self.in_channels):
            raise ValueError(f'SMPLRegressionHead: got {len(feats)} feature maps but in_channels has '
                             f'{len(self.in_channels)} entries {self.in_channels}; give the backbone\'s every branch '
                             '(HRNet: multiscale_output=True) or set in_channels to match')
        got = tuple(int(f.shape[1]) for f in feats)
        if got != self.in_channels:
            raise ValueError(f'SMPLRegressionHead: feature channels {got} differ from in_channels {self.in_channels}')
        if self.keypoint_attention:
            if heatmaps is None:
                heatmaps = self.keypoint_heatmaps(feats[0])
            pooled, centres = keypoint_attention_pool(feats, heatmaps, centre_radius=self.centre_radius)
            parts = dict(features=pooled, centres=centres)
            if 'normalised_centres' in self.regressor_inputs:
                parts['normalised_centres'] = normalise_centres(centres)
            return torch.cat([parts[name].flatten(1) for name in self.regressor_inputs], dim=1)
        if self.pooled_size == 1:
            return torch.cat([f.mean(dim=(2, 3)) for f in feats], dim=1)
        # adaptive cells: a map smaller than the grid repeats its values (each cell averages the pixels it overlaps)
        return torch.cat([nn.functional.adaptive_avg_pool2d(f, self.pooled_size).flatten(1) for f in feats], dim=1)

    def regress(self, feats: Features, heatmaps: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Iterative error feedback from the mean parameters (``heatmaps``: see :meth:`pool_features`).

        Returns:
            dict: ``pose_6d`` (B, 144), ``betas`` (B, S), ``camera`` (B, 3) ``(s, tx, ty)``.
        """
        x = self.pool_features(feats, heatmaps)
        batch = x.shape[0]
        pose = self.init_pose.expand(batch, -1)
        betas = self.init_shape.expand(batch, -1)
        camera = self.init_cam.expand(batch, -1)
        for _ in range(self.num_iterations):
            hidden = self.drop1(torch.relu(self.fc1(torch.cat([x, pose, betas, camera], dim=1))))
            hidden = self.drop2(torch.relu(self.fc2(hidden)))
            pose = pose + self.decpose(hidden)
            betas = betas + self.decshape(hidden)
            camera = camera + self.deccam(hidden)
        return dict(pose_6d=pose, betas=betas, camera=camera)

    def body(self, rotmat: Tensor, betas: Tensor, camera: Tensor) -> Dict[str, Tensor]:
        """Body model and crop camera of given parameters.

        Args:
            rotmat (Tensor): (B, 24, 3, 3) rotation matrices, global orientation first.
            betas (Tensor): (B, S).
            camera (Tensor): (B, 3) ``(s, tx, ty)``.

        Returns:
            dict: ``rotmat``, ``betas``, ``camera`` (the inputs); ``vertices`` (B, V, 3), ``joints`` (B, 24, 3),
            ``keypoints_3d`` (B, K, 3) (metres, model frame turned by the global orientation);
            ``camera_translation`` (B, 3); ``keypoints_2d`` (B, K, 2) crop coordinates over the crop size, in
            [0, 1) inside the crop (mmpose's regression-label convention).
        """
        out = self.body_model(betas=betas, body_pose=rotmat[:, 1:], global_orient=rotmat[:, :1])
        translation = camera_translation(camera, focal_length=self.focal_length, resolution=self.input_size[0])
        offsets = project_points(out['keypoints'], translation, focal_length=self.focal_length)
        return dict(rotmat=rotmat, betas=betas, camera=camera, vertices=out['vertices'], joints=out['joints'],
                    keypoints_3d=out['keypoints'], camera_translation=translation,
                    keypoints_2d=offsets / self.input_size[0] + 0.5)

    def forward(self, feats: Features) -> Dict[str, Tensor]:
        """Regressed parameters, the body and its projection (see :meth:`body`); ``pose_6d`` (B, 144) too, and
        with ``auxiliary_heatmaps`` ``heatmaps`` (B, K, H_0, W_0) of the first feature map."""
        heatmaps = None if self.keypoint_heatmaps is None else self.keypoint_heatmaps(feats[0])
        params = self.regress(feats, heatmaps)
        rotmat = rotation_6d_to_matrix(params['pose_6d'].reshape(-1, _NUM_SMPL_JOINTS, 6))
        out = dict(self.body(rotmat, params['betas'], params['camera']), pose_6d=params['pose_6d'])
        if heatmaps is not None:
            out['heatmaps'] = heatmaps
        return out

    def prediction_outputs(self, outputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``coords`` (B, K, 2): the projected keypoints over the crop size (what ``acc_pose`` compares with
        ``keypoint_labels``)."""
        return dict(coords=outputs['keypoints_2d'])

    # ---- predict ----------------------------------------------------------------------------------------------

    def mirror_parameters(self, params: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Parameters of the mirrored crop mapped back to the original crop (class docstring, flip test).

        Args:
            params (dict): ``rotmat`` (B, 24, 3, 3), ``betas`` (B, S), ``camera`` (B, 3).

        Returns:
            dict: The same keys.
        """
        camera = params['camera']
        scale = camera[:, 0].clamp_min(1e-3)
        tx = -camera[:, 1] - 2.0 / (self.input_size[0] * scale)
        return dict(rotmat=mirror_rotations(params['rotmat'], SMPL_FLIP_INDICES), betas=params['betas'],
                    camera=torch.stack([camera[:, 0], tx, camera[:, 2]], dim=1))

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: OptConfigType = None) -> Predictions:
        """Per-sample SMPL parameters, body and 2D keypoints (class docstring), with optional flip test.

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): Features, or ``[feats, flipped_feats]`` with
                ``test_cfg['flip_test']`` (as :class:`mmpose.models.TopdownPoseEstimator` passes them).
            batch_data_samples (List[PoseDataSample]): The batch's data samples (only their number is used).
            test_cfg (dict, optional): ``flip_test`` (default False).

        Returns:
            List[InstanceData]: One instance per sample, numpy arrays (class docstring).
        """
        if test_cfg is None:
            test_cfg = {}
        if test_cfg.get('flip_test', False):
            feats, feats_flipped = self.split_flip_feats(feats)
            out, out_flipped = self.forward(feats), self.forward(feats_flipped)
            back = self.mirror_parameters(out_flipped)
            rotmat = 0.5 * (out['rotmat'] + back['rotmat'])
            rotmat = rotation_6d_to_matrix(matrix_to_rotation_6d(rotmat))
            out = self.body(rotmat, 0.5 * (out['betas'] + back['betas']), 0.5 * (out['camera'] + back['camera']))
        else:
            out = self.forward(feats)
        out = {key: value.detach() for key, value in out.items()}
        batch = out['betas'].shape[0]
        fields = dict(
            keypoints=out['keypoints_2d'] * out['keypoints_2d'].new_tensor(self.input_size),
            keypoint_scores=out['keypoints_2d'].new_ones(out['keypoints_2d'].shape[:2]),
            keypoints_3d=out['keypoints_3d'], vertices=out['vertices'],
            smpl_pose=matrix_to_axis_angle(out['rotmat']).reshape(batch, -1), smpl_rotmat=out['rotmat'],
            smpl_betas=out['betas'], camera=out['camera'], camera_translation=out['camera_translation'])
        fields = {key: value.cpu().numpy() for key, value in fields.items()}
        return [InstanceData(**{key: value[i:i + 1] for key, value in fields.items()}) for i in range(batch)]

    # ---- training ---------------------------------------------------------------------------------------------

    def loss_terms(self, outputs: Dict[str, Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The mesh-recovery losses (class docstring).

        Args:
            outputs (dict): :meth:`forward`'s.
            targets (dict): :meth:`gather_targets` of what ``pose_plugins.GenerateMeshTarget`` packed:
                ``keypoint_labels`` (B, K, 2) over the crop size, ``keypoint_weights`` (B, K),
                ``keypoints_3d_labels`` (B, K * 3) metres, ``keypoints_3d_weights`` (B, 1), ``smpl_pose_labels``
                (B, 72) axis-angle, ``smpl_betas_labels`` (B, S), ``has_smpl`` (B, 1).

        Returns:
            dict: ``loss_kpt_2d``, ``loss_kpt_3d``, ``loss_smpl_pose``, ``loss_smpl_betas``, ``loss_vertices``
            and ``loss_shape_prior`` (those configured); ``loss_heatmaps`` with ``auxiliary_heatmaps``.
        """
        batch = outputs['betas'].shape[0]
        losses = {}
        if self.loss_keypoints_2d is not None:  # on [-1, 1] crop coordinates, as HMR / mmpose 0.x
            losses['loss_kpt_2d'] = self.loss_keypoints_2d(2.0 * outputs['keypoints_2d'] - 1.0,
                                                           2.0 * targets['keypoint_labels'] - 1.0,
                                                           targets['keypoint_weights'])
        if self.loss_keypoints_3d is not None:
            gt = targets['keypoints_3d_labels'].reshape(batch, -1, 3)
            losses['loss_kpt_3d'] = self.loss_keypoints_3d(outputs['keypoints_3d'], gt,
                                                           targets['keypoints_3d_weights'].reshape(batch))
        has_smpl = targets['has_smpl'].reshape(batch)
        gt_rotmat = axis_angle_to_matrix(targets['smpl_pose_labels'].reshape(batch, _NUM_SMPL_JOINTS, 3))
        gt_betas = targets['smpl_betas_labels']
        if self.loss_smpl_pose is not None:
            losses['loss_smpl_pose'] = self.loss_smpl_pose(outputs['rotmat'], gt_rotmat, has_smpl)
        if self.loss_smpl_betas is not None:
            losses['loss_smpl_betas'] = self.loss_smpl_betas(outputs['betas'], gt_betas, has_smpl)
        if self.loss_vertices is not None:
            with torch.no_grad():
                gt_vertices = self.body_model(betas=gt_betas, body_pose=gt_rotmat[:, 1:],
                                              global_orient=gt_rotmat[:, :1])['vertices']
            losses['loss_vertices'] = self.loss_vertices(outputs['vertices'], gt_vertices, has_smpl)
        if self.loss_shape_prior is not None:
            losses['loss_shape_prior'] = self.loss_shape_prior(outputs['betas'])
        if self.loss_heatmaps is not None:
            losses['loss_heatmaps'] = self.auxiliary_heatmap_loss(outputs['heatmaps'], targets)
        return losses

    def auxiliary_heatmap_loss(self, heatmaps: Tensor, targets: Dict[str, Tensor]) -> Tensor:
        """The auxiliary 2D term: MSRA Gaussian targets of the 17 keypoints rendered on the batch's device at the
        first feature map's resolution (keypoint ``labels * (W_0, H_0)``, as an MSRA codec with
        ``heatmap_size = (W_0, H_0)``), compared with ``heatmaps`` (B, K, H_0, W_0) by ``loss_heatmaps``; weights:
        the keypoints' (0 for invisible or outside keypoints)."""
        height, width = heatmaps.shape[-2:]
        keypoints = targets['keypoint_labels'] * targets['keypoint_labels'].new_tensor([width, height])
        target, weights = gaussian_heatmaps_tensor(heatmap_size=(width, height), keypoints=keypoints[:, None],
                                                   keypoints_visible=targets['keypoint_weights'][:, None],
                                                   sigma=self.heatmap_sigma)
        return self.loss_heatmaps(heatmaps, target, weights[:, 0])
