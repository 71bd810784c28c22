"""Integral (soft-argmax) regression head, 2D and root-relative 3D.

Sun et al., "Integral Human Pose Regression", ECCV 2018 (https://arxiv.org/abs/1711.08229); Moon et al.,
"Camera Distance-aware Top-down Approach for 3D Multi-person Pose Estimation from a Single RGB Image", ICCV 2019
(https://arxiv.org/abs/1907.11346, the 3DMPPE PoseNet: ResNet -> 3 deconvolutions -> 1x1 conv to K x D
channels -> softmax over each keypoint's D x H x W volume -> expected x, y, z); Gu et al., "Removing the Bias of
Integral Pose Regression", ICCV 2021 (``debias``); Nibali et al., DSNT, 2018 (the auxiliary heatmap loss).
"""
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

from pose_plugins.models.heads.base_pose_head import DEFAULT_FINAL_LAYER, BasePoseHead
from pose_plugins.models.layers.deconv_stack import make_deconv_layers
from pose_plugins.models.layers.soft_argmax import SoftArgmax
from pose_plugins.registry import MODELS

__all__ = ['IntegralRegressionHead']
# mmpose's IntegralRegressionHead nests the deconvs and the final conv in a HeatmapHead called
# ``simplebaseline_head`` and stores its soft-argmax grids as parameters ``linspace_x`` / ``linspace_y``.
_MMPOSE_NESTED_PREFIX = 'simplebaseline_head.'
_MMPOSE_GRID_KEYS = ('linspace_x', 'linspace_y')


@MODELS.register_module()
class IntegralRegressionHead(BasePoseHead):
    """Deconvolutions -> 1x1 conv to K x D maps -> soft-argmax -> normalised (x, y) or (x, y, z).

    ``feats[-1]`` -> :class:`~pose_plugins.models.layers.DeconvStack` (``deconv_layers``, optional) ->
    ``final_layer`` conv to ``K * D`` channels (channel ``k * D + d``: keypoint k, depth bin d) ->
    :class:`~pose_plugins.models.layers.SoftArgmax` (softmax with temperature ``beta`` over each keypoint's
    D x H x W volume, expectation over grids kept as buffers, optional debias). ``D = depth_bins``; ``D = 1`` is
    2D integral regression (IPR), ``D > 1`` is 3DMPPE's PoseNet.

    Training: the coordinate loss (``loss``, e.g. :class:`~pose_plugins.models.losses.CoordinateL1Loss`) between
    the soft-argmax coordinates and the codec's normalised labels, weighted by ``keypoint_weights`` and, in 3D,
    by ``keypoint_depth_weights``; optionally an auxiliary heatmap loss (``heatmap_loss``; mmpose's IPR config uses
    ``KeypointMSELoss``, its DSNT and Debias configs ``JSDiscretLoss``) between the softmax maps (summed over depth)
    and the codec's normalised Gaussian heatmaps, until epoch ``heatmap_loss_until_epoch`` (mmpose's
    ``lambda_t``). Prediction: flip test averages the coordinates of the image and of its mirror image (x
    mirrored about the input width, left/right keypoints swapped; z unchanged).

    mmpose parity (D = 1): parameter names differ only by mmpose's ``simplebaseline_head.`` nesting, and mmpose's
    checkpoints load with ``strict=True`` (their constant ``linspace_x`` / ``linspace_y`` entries are checked
    and dropped); the same weights give mmpose's coordinates, heatmaps, flip-test predictions and losses (tests
    compare in-process; with an auxiliary heatmap loss our ``loss_kpt + loss_heatmap`` equals the ``loss_kpt``
    of mmpose's ``DSNTHead``). ``debias=True`` differs on purpose: see :class:`SoftArgmax`.

    Note:
        - B: batch size (one instance per top-down crop)
        - C: ``in_channels``
        - K: number of keypoints, ``num_joints``
        - D: ``depth_bins``; h, w: input feature map size; H, W = h * 2**n, w * 2**n with n deconvolutions

    Args:
        in_channels (int): Channels C of the last feature map.
        in_featuremap_size (Tuple[int, int]): (w, h) of the last feature map.
        num_joints (int): Number of keypoints K.
        depth_bins (int): Depth bins D; 1 for 2D. 3DMPPE uses 64. Defaults to 1.
        debias (bool): Remove the soft-argmax's bias toward the map centre (Gu et al.). Defaults to False.
        beta (float): Softmax temperature (logits are multiplied by it). Defaults to 1.0.
        deconv_out_channels (Sequence[int], optional): Output channels of each deconv layer; ``None`` or empty
            means none. Defaults to ``(256, 256, 256)``.
        deconv_kernel_sizes (Sequence[int], optional): Kernel size (4, 3 or 2) of each deconv layer. Defaults to
            ``(4, 4, 4)``.
        final_layer (Mapping): Overrides for the final ``Conv2d(in, K * D, kernel_size=1)`` config. Defaults to
            ``{'kernel_size': 1}``.
        loss (dict, optional): Coordinate loss config. ``None`` means
            ``dict(type='pose_plugins.CoordinateL1Loss', use_target_weight=True)``.
        heatmap_loss (dict, optional): Auxiliary heatmap loss config, called as
            ``heatmap_loss(pred (B, K, H, W), target (B, K, H, W), keypoint_weights (B, K))``; the codec must
            encode heatmaps (``with_heatmaps=True``). ``None`` means no auxiliary loss. Defaults to None.
        heatmap_loss_until_epoch (int, optional): Drop the auxiliary loss from this (0-based) epoch on; ``None``
            keeps it throughout. Defaults to None.
        decoder (dict, optional): Codec config used by :meth:`predict`
            (:class:`~pose_plugins.codecs.IntegralRegressionLabel`). ``None`` disables :meth:`predict`.
        init_cfg (dict | list[dict], optional): mmengine init config. ``None`` means Normal(std=0.001) for
            (transposed) convolutions and constant 1 for BatchNorm weights, as mmpose's heatmap heads.

    Shapes:
        - forward input: tuple of feature maps, the last one (B, C, h, w)
        - forward output: coordinates (B, K, 2) (D = 1) or (B, K, 3), normalised to [0, 1); heatmaps
          (B, K, H, W), the softmax summed over depth
    """

    def __init__(self,
                 *,
                 in_channels: int,
                 in_featuremap_size: Tuple[int, int],
                 num_joints: int,
                 depth_bins: int = 1,
                 debias: bool = False,
                 beta: float = 1.0,
                 deconv_out_channels: Optional[Sequence[int]] = (256, 256, 256),
                 deconv_kernel_sizes: Optional[Sequence[int]] = (4, 4, 4),
                 final_layer: Mapping[str, Any] = DEFAULT_FINAL_LAYER,
                 loss: OptConfigType = None,
                 heatmap_loss: OptConfigType = None,
                 heatmap_loss_until_epoch: Optional[int] = None,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(decoder=decoder, init_cfg=init_cfg)
        if not isinstance(in_channels, int):
            raise TypeError(f'IntegralRegressionHead: in_channels must be an int (channels of the last feature '
                            f'map), got {in_channels!r}')
        if (len(in_featuremap_size) != 2
                or not all(isinstance(s, int) and s > 0 for s in in_featuremap_size)):
            raise ValueError(f'IntegralRegressionHead: in_featuremap_size must be 2 positive ints (w, h), got '
                             f'{in_featuremap_size!r}')
        if not (isinstance(depth_bins, int) and depth_bins >= 1):
            raise ValueError(f'IntegralRegressionHead: depth_bins must be an int >= 1, got {depth_bins!r}')

        self.in_channels = in_channels
        self.num_joints = num_joints
        self.depth_bins = depth_bins
        self.heatmap_loss_until_epoch = heatmap_loss_until_epoch
        if loss is None:
            loss = dict(type='pose_plugins.CoordinateL1Loss', use_target_weight=True)
        self.loss_module = MODELS.build(loss)
        self.heatmap_loss_module = MODELS.build(heatmap_loss) if heatmap_loss is not None else None
        if self.decoder is not None and getattr(self.decoder, 'is_3d', False) != (depth_bins > 1):
            raise ValueError(f'IntegralRegressionHead: depth_bins={depth_bins} needs a '
                             f'{"3D" if depth_bins > 1 else "2D"} decoder, but the decoder '
                             f'{type(self.decoder).__name__} is {"3D" if depth_bins == 1 else "2D"} '
                             '(set or drop its bbox_3d_shape)')

        self.deconv_layers, channels = make_deconv_layers(
            in_channels=in_channels, out_channels=deconv_out_channels, kernel_sizes=deconv_kernel_sizes)
        num_deconv = self._num_deconv
        self.final_layer = self.build_final_layer(channels, num_joints * depth_bins, final_layer)

        width, height = (s * 2**num_deconv for s in in_featuremap_size)
        self.heatmap_size = (width, height)
        self.soft_argmax = SoftArgmax(map_size=(depth_bins, height, width), beta=beta, debias=debias)
        self.register_load_state_dict_pre_hook(self._convert_mmpose_state_dict)

    def forward(self, feats: Tuple[Tensor, ...]) -> Tuple[Tensor, Tensor]:
        """Coordinates and heatmaps from the last feature map.

        Args:
            feats (Tuple[Tensor]): Multi-scale feature maps; only ``feats[-1]`` (B, C, h, w) is used.

        Returns:
            tuple:
            - coords (Tensor): (B, K, 2) or (B, K, 3), normalised to [0, 1).
            - heatmaps (Tensor): (B, K, H, W), softmax probabilities summed over depth.
        """
        logits = self.final_layer(self.deconv_layers(feats[-1]))
        if tuple(logits.shape[-2:]) != self.heatmap_size[::-1]:
            raise ValueError(f'IntegralRegressionHead: the maps are {tuple(logits.shape[-2:])} (H, W) but '
                             f'in_featuremap_size={tuple(s // 2**self._num_deconv for s in self.heatmap_size)} '
                             f'promises (H, W) = {self.heatmap_size[::-1]}; set in_featuremap_size to the '
                             f'backbone\'s last feature map (w, h) = {tuple(feats[-1].shape[-1:-3:-1])}')
        coords, probs = self.soft_argmax(logits)
        return coords, probs.sum(dim=2)

    @property
    def _num_deconv(self) -> int:
        return 0 if isinstance(self.deconv_layers, nn.Identity) else len(self.deconv_layers) // 3

    def prediction_outputs(self, outputs: Tuple[Tensor, Tensor]) -> Dict[str, Tensor]:
        """``coords`` (B, K, D) are decoded; ``heatmaps`` (B, K, H, W) are returned with ``output_heatmaps``.
        Flip test (in the base) mirrors x about the input width and swaps left/right keypoints; z is kept."""
        coords, heatmaps = outputs
        return dict(coords=coords, heatmaps=heatmaps)

    def loss_terms(self, outputs: Tuple[Tensor, Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Coordinate loss and the optional auxiliary heatmap loss.

        Args:
            outputs (tuple): ``forward``'s coordinates (B, K, D) and heatmaps (B, K, H, W).
            targets (dict): ``keypoint_labels`` (B, K, D), ``keypoint_weights`` (B, K), in 3D
                ``keypoint_depth_weights`` (B, K); with a heatmap loss ``heatmaps`` (B, K, H, W).

        Returns:
            dict: ``loss_kpt``; ``loss_heatmap`` while the auxiliary loss is on.
        """
        pred_coords, pred_heatmaps = outputs
        keypoint_labels, keypoint_weights = targets['keypoint_labels'], targets['keypoint_weights']
        if keypoint_labels.shape != pred_coords.shape:
            raise ValueError(f'IntegralRegressionHead: keypoint_labels {tuple(keypoint_labels.shape)} do not match '
                             f'the predicted coordinates {tuple(pred_coords.shape)}; use a '
                             f'{"3D" if self.depth_bins > 1 else "2D"} IntegralRegressionLabel codec')
        coord_args = [pred_coords, keypoint_labels, keypoint_weights]
        if self.depth_bins > 1:
            if 'keypoint_depth_weights' not in targets:
                raise KeyError('IntegralRegressionHead: 3D training needs gt_instance_labels.keypoint_depth_weights; '
                               'encode with IntegralRegressionLabel(bbox_3d_shape=...)')
            coord_args.append(targets['keypoint_depth_weights'])

        losses = dict(loss_kpt=self.loss_module(*coord_args))
        if self._heatmap_loss_active():
            if 'heatmaps' not in targets:
                raise KeyError('IntegralRegressionHead: heatmap_loss needs gt_fields.heatmaps; encode with '
                               'IntegralRegressionLabel(with_heatmaps=True)')
            losses['loss_heatmap'] = self.heatmap_loss_module(pred_heatmaps, targets['heatmaps'], keypoint_weights)
        return losses

    def _heatmap_loss_active(self) -> bool:
        """Whether the auxiliary heatmap loss applies in the current epoch (mmengine's MessageHub)."""
        if self.heatmap_loss_module is None:
            return False
        if self.heatmap_loss_until_epoch is None:
            return True
        epoch = MessageHub.get_current_instance().get_info('epoch')
        return epoch is None or epoch < self.heatmap_loss_until_epoch

    @staticmethod
    def _convert_mmpose_state_dict(module: 'IntegralRegressionHead', state_dict: dict, prefix: str,
                                   local_metadata: dict, *args: Any) -> None:
        """Rename mmpose's ``IntegralRegressionHead`` / ``DSNTHead`` keys in place and drop its constant grids.

        ``simplebaseline_head.deconv_layers.*`` / ``simplebaseline_head.final_layer.*`` become
        ``deconv_layers.*`` / ``final_layer.*``. ``linspace_x`` / ``linspace_y`` must equal our grids (they
        always do for a head of the same map size); anything else is a different model and is refused.
        """
        nested = prefix + _MMPOSE_NESTED_PREFIX
        for key in [k for k in state_dict if k.startswith(nested)]:
            state_dict[prefix + key[len(nested):]] = state_dict.pop(key)
        for name, grid in zip(_MMPOSE_GRID_KEYS, (module.soft_argmax.grid_x, module.soft_argmax.grid_y)):
            value = state_dict.pop(prefix + name, None)
            if value is not None and (value.numel() != grid.numel()
                                      or not torch.allclose(value.flatten().to(grid), grid, atol=1e-6)):
                raise ValueError(f'IntegralRegressionHead: checkpoint entry {prefix + name} of shape '
                                 f'{tuple(value.shape)} does not match this head\'s {grid.numel()}-point grid; '
                                 'the checkpoint was trained for another heatmap size')
