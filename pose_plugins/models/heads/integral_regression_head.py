"""Integral regression head: 2D IPR (Sun et al., ECCV 2018) and root-relative 3D (3DMPPE PoseNet, ICCV 2019)."""
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
# mmpose nests the deconvs and final conv in ``simplebaseline_head`` and stores its grids as parameters.
_MMPOSE_NESTED_PREFIX = 'simplebaseline_head.'
_MMPOSE_GRID_KEYS = ('linspace_x', 'linspace_y')


@MODELS.register_module()
class IntegralRegressionHead(BasePoseHead):
    """``feats[-1]`` -> deconvs (optional) -> 1x1 conv to K * D maps -> :class:`SoftArgmax` -> coordinates.

    Losses: ``loss`` on the coordinates, optionally ``heatmap_loss`` (DSNT) on the softmax maps. For D = 1, mmpose's
    ``IntegralRegressionHead`` / ``DSNTHead`` checkpoints load with ``strict=True`` and give the same outputs
    (``debias`` differs, see :class:`SoftArgmax`). Flip test mirrors x and keeps z.

    Args:
        in_channels (int): Channels of the last feature map.
        in_featuremap_size (Tuple[int, int]): (w, h) of the last feature map.
        num_joints (int): Number of keypoints K.
        depth_bins (int): D; 1 for 2D (3DMPPE: 64). Default: 1.
        debias (bool), beta (float): As :class:`SoftArgmax`. Default: False, 1.0.
        deconv_out_channels, deconv_kernel_sizes, final_layer: as :class:`HeatmapHead`.
        loss (dict, optional): Default: ``CoordinateL1Loss(use_target_weight=True)``.
        heatmap_loss (dict, optional): Auxiliary heatmap loss (codec ``with_heatmaps=True``). Default: none.
        heatmap_loss_until_epoch (int, optional): First (0-based) epoch without it. Default: never.
        decoder (dict, optional): ``IntegralRegressionLabel`` config for :meth:`predict`.
        init_cfg (dict | list[dict], optional): Default: Normal(std=0.001) convs, unit BN.
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
        """``feats[-1]`` -> coords (B, K, 2 or 3) in [0, 1), and heatmaps (B, K, H, W) summed over depth."""
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
        coords, heatmaps = outputs
        return dict(coords=coords, heatmaps=heatmaps)

    def loss_terms(self, outputs: Tuple[Tensor, Tensor], targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``loss_kpt`` and, while on, ``loss_heatmap``.

        Args:
            outputs (tuple): Coordinates (B, K, D) and heatmaps (B, K, H, W).
            targets (dict): ``keypoint_labels`` (B, K, D), ``keypoint_weights`` (B, K), in 3D
                ``keypoint_depth_weights`` (B, K); with a heatmap loss ``heatmaps`` (B, K, H, W).
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
        if self.heatmap_loss_module is None:
            return False
        if self.heatmap_loss_until_epoch is None:
            return True
        epoch = MessageHub.get_current_instance().get_info('epoch')
        return epoch is None or epoch < self.heatmap_loss_until_epoch

    @staticmethod
    def _convert_mmpose_state_dict(module: 'IntegralRegressionHead', state_dict: dict, prefix: str,
                                   local_metadata: dict, *args: Any) -> None:
        """Strip mmpose's ``simplebaseline_head.`` prefix; drop its grids, refusing ones of another size."""
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
