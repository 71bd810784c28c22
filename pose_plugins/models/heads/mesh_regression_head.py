"""Mesh regression head: pooled multi-branch features -> iterative error feedback -> body-model pose, shape, camera.

Kanazawa et al., "End-to-end Recovery of Human Shape and Pose", CVPR 2018 (HMR): iterative error feedback from
mean parameters (:class:`~pose_plugins.models.layers.IterativeRegressor`). Kolotouros et al., ICCV 2019 (SPIN): 6D
rotations and the crop camera with ``f = 5000`` (:mod:`pose_plugins.geometry`). Every HRNet branch is pooled and
concatenated (the "feat_list"), or, as PARE (Kocabas et al., ICCV 2021), pooled under each keypoint's auxiliary
heatmap. Unlike mmpose 0.x's ``HMRMeshHead``: 6D rotations, any :class:`~pose_plugins.body_models.BodyModel`
inside the head (SMPL or Anny; ``predict`` returns mmpose's 2D keypoints plus joints and mesh), and the losses in
:class:`~pose_plugins.models.losses.MeshLoss`.
"""
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import normal_init
from mmengine.structures import InstanceData
from mmpose.utils.typing import ConfigType, Features, OptConfigType, Predictions
from torch import Tensor, nn

from pose_plugins.codecs.utils.batch_encode import gaussian_heatmaps_tensor
from pose_plugins.geometry import (camera_translation, matrix_to_axis_angle, matrix_to_rotation_6d, mirror_camera,
                                   mirror_rotations, project_points, rotation_6d_to_matrix)
from pose_plugins.body_models.mean_params import load_mean_params
from pose_plugins.models.heads.base_pose_head import BasePoseHead
from pose_plugins.models.layers.iterative_regressor import IterativeRegressor
from pose_plugins.models.layers.keypoint_attention import keypoint_attention_pool, normalise_centres
from pose_plugins.models.losses.mesh_loss import MeshLoss
from pose_plugins.registry import MODELS

__all__ = ['MeshRegressionHead']

#: What the regressor can see with ``keypoint_attention`` (``regressor_inputs``), and PARE's default.
REGRESSOR_INPUTS: Tuple[str, ...] = ('features', 'centres', 'normalised_centres')
ATTENTION_INPUTS: Tuple[str, ...] = ('features', 'centres')
#: The loss of the auxiliary keypoint heatmaps when ``auxiliary_heatmaps`` names none.
DEFAULT_HEATMAP_LOSS: Mapping[str, Any] = MappingProxyType(dict(type='pose_plugins.KeypointMSELoss',
                                                                use_target_weight=True, loss_weight=1000.))
#: Regressor parameters that sat on the head itself in earlier checkpoints (now under ``regressor.``).
_REGRESSOR_LAYERS = ('fc1', 'fc2', 'decpose', 'decshape', 'deccam')


@MODELS.register_module()
@MODELS.register_module(name='SMPLRegressionHead')  # its earlier name: configs that name it still build
class MeshRegressionHead(BasePoseHead):
    """HMR / SPIN regressor of body-model parameters and a weak-perspective camera, with the body model.

    ``forward`` gives the body (:meth:`body`) of the regressed parameters; the base's flip test mirrors the
    mirrored crop's parameters back (:meth:`flip_back`), averages them (:meth:`merge_flipped`: rotations
    re-orthonormalised) and runs the body once on the average; :meth:`decode_tensors` is the step an exported graph
    runs too. ``predict`` gives per instance ``keypoints`` (1, K, 2) crop pixels, ``keypoint_scores`` (1, K) all 1,
    ``keypoints_3d`` (1, K, 3) and ``vertices`` (1, V, 3) metres (body frame turned by the global orientation),
    ``body_pose`` (1, J * 3) axis-angle, ``body_rotmat`` (1, J, 3, 3), ``body_shape`` (1, S), ``camera`` (1, 3)
    ``(s, tx, ty)``, ``camera_translation`` (1, 3) metres.

    Note:
        B: batch size; C_b: channels of feature map b, C their sum; K: 17 COCO keypoints; J: the body model's
        joints (24 for SMPL); V: its vertices; S: its shape parameters (SMPL's betas, Anny's phenotypes).

    Args:
        in_channels (int | Sequence[int]): Channels of each feature map (HRNet W32, every branch: 32, 64, 128, 256).
        input_size (Tuple[int, int]): Square crop ``(w, h)`` in pixels.
        body_model (dict): Body model config, no default: ``pose_plugins.SMPL`` with the user's file or
            ``pose_plugins.AnnyBody``; J and S come from it.
        hidden_channels, num_iterations, dropout: of the regressor (1024, 3, 0.5 as HMR).
        mean_params (str, optional): SPIN-format ``.npz`` start of this body model; None: the neutral start
            (:meth:`~pose_plugins.body_models.BodyModel.neutral_rotmat`, ``neutral_shape``).
        focal_length (float): Of the crop camera, pixels (SPIN: 5000).
        root_indices (Sequence[int]): Keypoints whose mean is the 3D root.
        pooled_size (int): Each map average-pooled to this grid (1: HMR's global average).
        auxiliary_heatmaps (dict, optional): ``dict(sigma=, loss=)``: a 1x1 conv predicting K heatmaps from the first
            map, trained on Gaussian targets of the 2D labels (PyMAF / PARE).
        keypoint_attention (bool): PARE's pooling under each keypoint's heatmap; needs ``auxiliary_heatmaps`` and
            ``pooled_size=1``.
        regressor_inputs (Sequence[str]): With keypoint attention, any of ``'features'`` (K C), ``'centres'``
            (2 K, crop coordinates in [-1, 1]) and ``'normalised_centres'`` (2 K, centred, over their RMS spread).
        centre_radius (int, optional): Centres from a local soft-argmax within this many cells of each maximum.
        loss_keypoints_2d, loss_keypoints_3d, loss_body_pose, loss_body_shape, loss_vertices, loss_shape_prior
            (dict, optional): The terms of :class:`~pose_plugins.models.losses.MeshLoss`.
        init_cfg (dict, optional): Defaults to the regressor's (SPIN's) init.
    """

    export_fields = ('keypoints_3d', 'vertices')

    def __init__(self,
                 *,
                 in_channels: Union[int, Sequence[int]],
                 input_size: Tuple[int, int],
                 body_model: ConfigType,
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
                 loss_body_pose: OptConfigType = None,
                 loss_body_shape: OptConfigType = None,
                 loss_vertices: OptConfigType = None,
                 loss_shape_prior: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(decoder=None, init_cfg=init_cfg)
        channels = self._check_arguments(in_channels, input_size, hidden_channels, num_iterations, pooled_size)
        self.in_channels = channels
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.num_iterations = num_iterations
        self.focal_length = float(focal_length)
        self.root_indices = tuple(root_indices)
        self.pooled_size = pooled_size
        self.keypoint_attention = bool(keypoint_attention)
        self.regressor_inputs = self._check_attention(keypoint_attention, auxiliary_heatmaps, pooled_size,
                                                      regressor_inputs, centre_radius)
        self.centre_radius = centre_radius
        self.body_model = MODELS.build(dict(body_model))
        num_keypoints = len(self.body_model.keypoint_names)
        self.heatmap_sigma, self.keypoint_heatmaps, self.loss_heatmaps = None, None, None
        if auxiliary_heatmaps is not None:
            self.heatmap_sigma = float(auxiliary_heatmaps['sigma'])
            self.keypoint_heatmaps = self.build_final_layer(channels[0], num_keypoints)
            normal_init(self.keypoint_heatmaps, std=0.001, bias=0)  # as the heatmap heads' final layer
            self.loss_heatmaps = MODELS.build(dict(auxiliary_heatmaps.get('loss', DEFAULT_HEATMAP_LOSS)))
        widths = dict(features=sum(channels), centres=2, normalised_centres=2)
        num_features = (num_keypoints * sum(widths[name] for name in self.regressor_inputs)
                        if self.keypoint_attention else sum(channels) * pooled_size**2)
        pose, shape, cam = load_mean_params(mean_params, self.body_model)
        self.regressor = IterativeRegressor(in_features=num_features, init_pose=pose, init_shape=shape,
                                            init_cam=cam, hidden_channels=hidden_channels,
                                            num_iterations=num_iterations, dropout=dropout)
        self.mesh_loss = MeshLoss(terms=dict(
            loss_keypoints_2d=loss_keypoints_2d, loss_keypoints_3d=loss_keypoints_3d, loss_body_pose=loss_body_pose,
            loss_body_shape=loss_body_shape, loss_vertices=loss_vertices, loss_shape_prior=loss_shape_prior))

    @staticmethod
    def _check_arguments(in_channels: Union[int, Sequence[int]], input_size: Tuple[int, int], hidden_channels: int,
                         num_iterations: int, pooled_size: int) -> Tuple[int, ...]:
        channels = (in_channels, ) if isinstance(in_channels, int) else tuple(in_channels)
        if not channels or not all(isinstance(c, int) and c > 0 for c in channels):
            raise ValueError(f'MeshRegressionHead: in_channels must be a positive int or a sequence of them (one '
                             f'per feature map), got {in_channels!r}')
        if len(input_size) != 2 or input_size[0] != input_size[1] or input_size[0] <= 0:
            raise ValueError(f'MeshRegressionHead: input_size must be a square crop (w, h) with w == h > 0 (the '
                             f'weak-perspective camera has one scale), got {tuple(input_size)!r}')
        for name, value, low in (('hidden_channels', hidden_channels, 1),
                                 ('num_iterations', num_iterations, 1), ('pooled_size', pooled_size, 1)):
            if not isinstance(value, int) or value < low:
                raise ValueError(f'MeshRegressionHead: {name} must be an int >= {low}, got {value!r}')
        return channels

    @staticmethod
    def _check_attention(keypoint_attention: bool, auxiliary_heatmaps: OptConfigType, pooled_size: int,
                         regressor_inputs: Sequence[str], centre_radius: Optional[int]) -> Tuple[str, ...]:
        if keypoint_attention and (auxiliary_heatmaps is None or pooled_size != 1):
            raise ValueError(f'MeshRegressionHead: keypoint_attention=True pools under the auxiliary heatmaps: it '
                             f'needs auxiliary_heatmaps=dict(sigma=...) and pooled_size=1, got auxiliary_heatmaps='
                             f'{auxiliary_heatmaps!r}, pooled_size={pooled_size!r}')
        inputs = (regressor_inputs, ) if isinstance(regressor_inputs, str) else tuple(regressor_inputs)
        if (not inputs or len(set(inputs)) != len(inputs) or not set(inputs) <= set(REGRESSOR_INPUTS)
                or (inputs != ATTENTION_INPUTS and not keypoint_attention)):
            raise ValueError(f'MeshRegressionHead: regressor_inputs must be distinct entries of {REGRESSOR_INPUTS} '
                             f'(other than the default {ATTENTION_INPUTS} only with keypoint_attention=True), got '
                             f'{regressor_inputs!r}')
        if centre_radius is not None and (not keypoint_attention or not isinstance(centre_radius, int)
                                          or isinstance(centre_radius, bool) or centre_radius < 0):
            raise ValueError(f'MeshRegressionHead: centre_radius must be None or an int >= 0, and needs '
                             f'keypoint_attention=True, got {centre_radius!r}')
        if auxiliary_heatmaps is not None:
            aux = dict(auxiliary_heatmaps)
            if set(aux) - {'sigma', 'loss'} or not isinstance(aux.get('sigma'), (int, float)) or aux['sigma'] <= 0:
                raise ValueError(f'MeshRegressionHead: auxiliary_heatmaps must be dict(sigma=<float > 0>[, loss=...]), '
                                 f'got {auxiliary_heatmaps!r}')
        return inputs

    @staticmethod
    def default_init_cfg() -> list:
        """None at the head's level: the regressor initialises its decoders (SPIN's xavier, gain 0.01)."""
        return []

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Also reads regressor weights stored on the head itself (``fc1.*``, ``decpose.*``, ...), and starts the
        auxiliary heatmaps from a 2D heatmap checkpoint's ``final_layer`` when shapes match (PARE starts from a
        2D HRNet the same way)."""
        for layer in _REGRESSOR_LAYERS:
            for name in ('weight', 'bias'):
                old = f'{prefix}{layer}.{name}'
                if old in state_dict and f'{prefix}regressor.{layer}.{name}' not in state_dict:
                    state_dict[f'{prefix}regressor.{layer}.{name}'] = state_dict.pop(old)
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
        """(B, C * pooled_size^2) pooled maps, or with keypoint attention what ``regressor_inputs`` names, pooled
        under ``heatmaps`` (B, K, H_0, W_0) (computed from ``feats[0]`` when not given)."""
        if len(feats) != len(self.in_channels):
            raise ValueError(f'MeshRegressionHead: got {len(feats)} feature maps but in_channels has '
                             f'{len(self.in_channels)} entries {self.in_channels}; give the backbone\'s every branch '
                             '(HRNet: multiscale_output=True) or set in_channels to match')
        got = tuple(int(f.shape[1]) for f in feats)
        if got != self.in_channels:
            raise ValueError(f'MeshRegressionHead: feature channels {got} differ from in_channels {self.in_channels}')
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
        return torch.cat([nn.functional.adaptive_avg_pool2d(f, self.pooled_size).flatten(1) for f in feats], dim=1)

    def body(self, rotmat: Tensor, shape: Tensor, camera: Tensor) -> Dict[str, Tensor]:
        """The body model and crop camera of ``rotmat`` (B, J, 3, 3), ``shape`` (B, S), ``camera`` (B, 3).

        Returns:
            dict: the inputs; ``vertices`` (B, V, 3), ``joints`` (B, J, 3), ``keypoints_3d`` (B, K, 3) metres;
            ``camera_translation`` (B, 3); ``keypoints_2d`` (B, K, 2) over the crop size, in [0, 1) inside it.
        """
        out = self.body_model(shape=shape, rotmat=rotmat)
        translation = camera_translation(camera, focal_length=self.focal_length, resolution=self.input_size[0])
        offsets = project_points(out['keypoints'], translation, focal_length=self.focal_length)
        return dict(rotmat=rotmat, shape=shape, camera=camera, vertices=out['vertices'], joints=out['joints'],
                    keypoints_3d=out['keypoints'], camera_translation=translation,
                    keypoints_2d=offsets / self.input_size[0] + 0.5)

    def forward(self, feats: Features) -> Dict[str, Tensor]:
        """:meth:`body` of the regressed parameters, with ``pose_6d`` (B, 6 J) and, with auxiliary heatmaps,
        ``heatmaps`` (B, K, H_0, W_0)."""
        heatmaps = None if self.keypoint_heatmaps is None else self.keypoint_heatmaps(feats[0])
        params = self.regressor(self.pool_features(feats, heatmaps))
        rotmat = rotation_6d_to_matrix(params['pose_6d'].reshape(-1, self.body_model.num_joints, 6))
        out = dict(self.body(rotmat, params['shape'], params['camera']), pose_6d=params['pose_6d'])
        if heatmaps is not None:
            out['heatmaps'] = heatmaps
        return out

    # ---- predict: the base's flow -----------------------------------------------------------------------------

    def prediction_outputs(self, outputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The body, with ``coords`` (B, K, 2): the projected keypoints over the crop size (scored by ``acc_pose``)."""
        keys = ('rotmat', 'shape', 'camera', 'vertices', 'joints', 'keypoints_3d', 'camera_translation')
        return dict({key: outputs[key] for key in keys}, coords=outputs['keypoints_2d'])

    def flip_back(self, outputs: Dict[str, Tensor], metainfo: Mapping, test_cfg: Mapping) -> Dict[str, Tensor]:
        """The mirrored crop's parameters mapped back: rotations ``R -> M R M`` (``M = diag(-1, 1, 1)``) with left
        and right joints swapped (the body model's ``flip_indices``), shape unchanged, camera by
        :func:`~pose_plugins.geometry.mirror_camera`."""
        return dict(rotmat=mirror_rotations(outputs['rotmat'], self.body_model.flip_indices), shape=outputs['shape'],
                    camera=mirror_camera(outputs['camera'], resolution=self.input_size[0]))

    def merge_flipped(self, outputs: Dict[str, Tensor], flipped: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Mean parameters (the mean rotation re-orthonormalised through its 6D part), and the body of the mean."""
        rotmat = rotation_6d_to_matrix(matrix_to_rotation_6d(0.5 * (outputs['rotmat'] + flipped['rotmat'])))
        body = self.body(rotmat, 0.5 * (outputs['shape'] + flipped['shape']),
                         0.5 * (outputs['camera'] + flipped['camera']))
        return self.prediction_outputs(body)

    def decode_tensors(self, outputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Tensors per crop from :meth:`test_time_outputs`: ``keypoints`` (B, K, 2) crop pixels, ``scores`` (B, K)
        ones (a regressor has no per-keypoint confidence), ``keypoints_3d`` (B, K, 3), ``vertices`` (B, V, 3)."""
        coords = outputs['coords']
        return dict(keypoints=coords * coords.new_tensor(self.input_size), scores=coords.new_ones(coords.shape[:2]),
                    keypoints_3d=outputs['keypoints_3d'], vertices=outputs['vertices'])

    def decode_outputs(self, outputs: Dict[str, Tensor]) -> Predictions:
        """Per-sample InstanceData (class docstring) of :meth:`test_time_outputs`."""
        outputs = {key: value.detach() for key, value in outputs.items()}
        decoded = self.decode_tensors(outputs)
        batch = outputs['shape'].shape[0]
        fields = dict(
            keypoints=decoded['keypoints'], keypoint_scores=decoded['scores'], keypoints_3d=decoded['keypoints_3d'],
            vertices=decoded['vertices'], body_pose=matrix_to_axis_angle(outputs['rotmat']).reshape(batch, -1),
            body_rotmat=outputs['rotmat'], body_shape=outputs['shape'], camera=outputs['camera'],
            camera_translation=outputs['camera_translation'])
        fields = {key: value.cpu().numpy() for key, value in fields.items()}
        return [InstanceData(**{key: value[i:i + 1] for key, value in fields.items()}) for i in range(batch)]

    # ---- training ---------------------------------------------------------------------------------------------

    def loss_terms(self, outputs: Dict[str, Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """:class:`~pose_plugins.models.losses.MeshLoss` of :meth:`forward`'s outputs and what
        ``pose_plugins.GenerateMeshTarget`` packed, plus ``loss_heatmaps`` with auxiliary heatmaps."""
        losses = self.mesh_loss(outputs, targets, self.body_model)
        if self.loss_heatmaps is not None:
            losses['loss_heatmaps'] = self.auxiliary_heatmap_loss(outputs['heatmaps'], targets)
        return losses

    def auxiliary_heatmap_loss(self, heatmaps: Tensor, targets: Dict[str, Tensor]) -> Tensor:
        """``loss_heatmaps`` of ``heatmaps`` (B, K, H_0, W_0) against Gaussian targets of the 2D labels rendered
        on the batch's device at that resolution, weighted by the keypoints' weights."""
        height, width = heatmaps.shape[-2:]
        keypoints = targets['keypoint_labels'] * targets['keypoint_labels'].new_tensor([width, height])
        target, weights = gaussian_heatmaps_tensor(heatmap_size=(width, height), keypoints=keypoints[:, None],
                                                   keypoints_visible=targets['keypoint_weights'][:, None],
                                                   sigma=self.heatmap_sigma)
        return self.loss_heatmaps(heatmaps, target, weights[:, 0])
