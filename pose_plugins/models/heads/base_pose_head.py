"""What every top-down head of ours shares: decoder, default init, final layer, targets, flip test, loss flow.

A new head subclasses :class:`BasePoseHead` and defines only what is its own:

- ``__init__``: call ``super().__init__(decoder=..., init_cfg=...)``, build its layers (the last conv with
  :meth:`BasePoseHead.build_final_layer`) and its loss modules;
- ``forward(feats)``: pure tensors, no branching on ``self.training``;
- ``loss_terms(outputs, targets)``: the dict of losses from ``forward``'s outputs and the batch's targets
  (:meth:`BasePoseHead.gather_targets` has stacked them);
- ``prediction_outputs(outputs)`` only if ``forward`` returns more than one heatmap tensor (which one is decoded:
  the last stack, RefineNet's, or ``coords`` for a coordinate head).

The base then provides ``predict`` (flip test as in Xiao et al., "Simple Baselines for Human Pose Estimation and
Tracking", ECCV 2018: average with the mirrored image's output, flipped back with left/right keypoints swapped;
decoding of the whole batch through the codec's ``batch_decode``), ``loss`` (``loss_terms`` + ``acc_pose``) and
the PCK accuracy. Where a head's parameters match mmpose's, its checkpoints keep loading with ``strict=True``:
the base adds no parameters.

Note:
    - B: batch size (one instance per top-down crop)
    - K: number of keypoints
    - L: target levels (multi-level codecs such as CPN's)
    - D: coordinate dims (2 or 3) of coordinate heads
    - H, W: heatmap height and width
"""
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.cnn import build_conv_layer
from mmengine.structures import PixelData
from mmpose.evaluation.functional import keypoint_pck_accuracy, pose_pck_accuracy
from mmpose.models.heads.base_head import BaseHead
from mmpose.models.utils.tta import flip_coordinates, flip_heatmaps
from mmpose.structures import MultilevelPixelData
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, Features, OptConfigType, OptSampleList, Predictions
from torch import Tensor, nn

from pose_plugins.registry import KEYPOINT_CODECS

__all__ = ['BasePoseHead', 'DEFAULT_FINAL_LAYER']

#: The final layer's default overrides: a 1x1 conv. Read-only so the default cannot be mutated through a signature.
DEFAULT_FINAL_LAYER: Mapping[str, Any] = MappingProxyType({'kernel_size': 1})

#: Axis along which the per-sample tensors of a label are concatenated (the instance axis N). Labels shaped
#: (N, K) or multi-level (L, N, K) use -2; coordinate labels (N, K, D) use -3.
_LABEL_INSTANCE_AXIS: Mapping[str, int] = MappingProxyType({'keypoint_labels': -3})


class BasePoseHead(BaseHead):
    """Base of our top-down heads; see the module docstring for what a subclass defines.

    Args:
        decoder (dict, optional): Codec config used by :meth:`predict`, built by
            :data:`pose_plugins.registry.KEYPOINT_CODECS`. ``None`` disables :meth:`predict`.
        init_cfg (dict | list[dict], optional): mmengine init config. ``None`` means :meth:`default_init_cfg`.
    """

    def __init__(self, *, decoder: OptConfigType = None, init_cfg: OptConfigType = None) -> None:
        super().__init__(self.default_init_cfg() if init_cfg is None else init_cfg)
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

    @staticmethod
    def default_init_cfg() -> list:
        """mmpose's (and the original SimpleBaseline / HRNet code's) head init, a new list on every call:
        Normal(std=0.001) for (transposed) convolutions, constant 1 for BatchNorm weights."""
        return [
            dict(type='Normal', layer=['Conv2d', 'ConvTranspose2d'], std=0.001),
            dict(type='Constant', layer='BatchNorm2d', val=1),
        ]

    @staticmethod
    def build_final_layer(in_channels: int, out_channels: int,
                          overrides: Optional[Mapping[str, Any]] = DEFAULT_FINAL_LAYER) -> nn.Module:
        """The last layer: ``Conv2d(in_channels, out_channels, kernel_size=1)`` updated with ``overrides`` (e.g.
        ``dict(kernel_size=3, padding=1)``), built by mmcv's ``build_conv_layer``; ``None`` means none
        (``nn.Identity``)."""
        if overrides is None:
            return nn.Identity()
        cfg = dict(type='Conv2d', in_channels=in_channels, out_channels=out_channels, kernel_size=1)
        cfg.update(overrides)
        return build_conv_layer(cfg)

    # ---- what a subclass defines ----------------------------------------------------------------------------

    def loss_terms(self, outputs: Any, targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The head's losses (every entry whose name contains ``loss`` is summed by mmengine).

        Args:
            outputs: What :meth:`forward` returned for the batch.
            targets (dict): :meth:`gather_targets` of the batch.

        Returns:
            dict: Scalar tensors.
        """
        raise NotImplementedError(f'{type(self).__name__} must define loss_terms(outputs, targets)')

    def prediction_outputs(self, outputs: Any) -> Dict[str, Tensor]:
        """The outputs that are decoded and scored: ``heatmaps`` (B, K, H, W), and ``coords`` (B, K, D) for a
        coordinate head (which then decodes ``coords``). The default takes ``forward``'s single heatmap tensor.

        Args:
            outputs: What :meth:`forward` returned.

        Returns:
            dict: ``heatmaps`` and optionally ``coords``.
        """
        return dict(heatmaps=outputs)

    # ---- shared behaviour -------------------------------------------------------------------------------------

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: OptConfigType = None) -> Predictions:
        """Decode keypoints of the whole batch in one codec call, with optional horizontal flip test.

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): Features of the batch, or ``[feats, flipped_feats]``
                when ``test_cfg['flip_test']`` (as :class:`mmpose.models.TopdownPoseEstimator` passes them).
            batch_data_samples (List[PoseDataSample]): The batch's data samples; with flip test, the first one's
                ``metainfo`` gives ``flip_indices`` (and ``input_size`` for coordinates).
            test_cfg (dict, optional): ``flip_test`` (default False); for heatmaps ``flip_mode`` (default
                ``'heatmap'``) and ``shift_heatmap`` (default False); for coordinates ``shift_coords`` (default
                True: mirrored x is ``w - 1 - x``); ``output_heatmaps`` (default False).

        Returns:
            List[InstanceData] | Tuple[List[InstanceData], List[PixelData]]: Per sample ``keypoints`` (1, K, D) in
            the codec's input (crop) space and ``keypoint_scores`` (1, K); plus, if ``output_heatmaps``, a
            ``PixelData`` per sample with ``heatmaps`` (K, H, W).
        """
        if test_cfg is None:
            test_cfg = {}
        feats_flipped = None
        if test_cfg.get('flip_test', False):
            feats, feats_flipped = self.split_flip_feats(feats)
        outputs = self.test_time_outputs(feats, feats_flipped, batch_data_samples[0].metainfo, test_cfg)
        if 'coords' in outputs:
            preds = self.decode(outputs['coords'][:, None])  # (B, 1, K, D): one instance per sample
        else:
            preds = self.decode(outputs['heatmaps'])
        if test_cfg.get('output_heatmaps', False):
            return preds, [PixelData(heatmaps=heatmaps) for heatmaps in outputs['heatmaps'].detach()]
        return preds

    def test_time_outputs(self, feats: Tuple[Tensor], feats_flipped: Optional[Tuple[Tensor]], metainfo: dict,
                          test_cfg: dict) -> Dict[str, Tensor]:
        """The tensors :meth:`predict` decodes: :meth:`prediction_outputs` of ``feats``, averaged with those of the
        mirrored crops' ``feats_flipped`` mapped back by :meth:`flip_back` when given (flip test). Tensor
        operations only, so an exported graph (``pose_plugins.deploy``) runs this same step.

        Args:
            feats (Tuple[Tensor]): The backbone's (neck's) features of the crops.
            feats_flipped (Tuple[Tensor], optional): Those of the horizontally mirrored crops, or None.
            metainfo (dict): ``flip_indices`` (and ``input_size`` for coordinates), as a data sample's.
            test_cfg (dict): ``flip_mode``, ``shift_heatmap``, ``shift_coords`` (see :meth:`predict`).

        Returns:
            dict: ``heatmaps`` (B, K, H, W) and optionally ``coords`` (B, K, D).
        """
        outputs = self.prediction_outputs(self.forward(feats))
        if feats_flipped is not None:
            flipped = self.flip_back(self.prediction_outputs(self.forward(feats_flipped)), metainfo, test_cfg)
            outputs = {key: (value + flipped[key]) * 0.5 for key, value in outputs.items()}
        return outputs

    def loss(self,
             feats: Features,
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = None) -> dict:
        """:meth:`loss_terms` of the batch, plus ``acc_pose``.

        Args:
            feats (Tuple[Tensor]): Multi-scale feature maps of the batch.
            batch_data_samples (List[PoseDataSample]): With the targets the codec encoded (``gt_fields``,
                ``gt_instance_labels``).
            train_cfg (dict, optional): ``compute_acc`` (bool, default True).

        Returns:
            dict: The losses and, if ``compute_acc``, ``acc_pose`` (scalar, see :meth:`accuracy`).
        """
        if train_cfg is None:
            train_cfg = {}
        outputs = self.forward(feats)
        targets = self.gather_targets(batch_data_samples)
        losses = self.loss_terms(outputs, targets)
        if train_cfg.get('compute_acc', True):
            losses['acc_pose'] = self.accuracy(outputs, targets)
        return losses

    def accuracy(self, outputs: Any, targets: Dict[str, Tensor]) -> Tensor:
        """PCK@0.05 of the predictions (mmpose's ``acc_pose``): of the heatmap maxima against the (last-level)
        target heatmaps, or, for a coordinate head, of the normalised x, y against ``keypoint_labels``.

        Args:
            outputs: What :meth:`forward` returned.
            targets (dict): :meth:`gather_targets` of the batch.

        Returns:
            Tensor: Scalar, not differentiable, on the targets' device.
        """
        pred = self.prediction_outputs(outputs)
        weights = targets['keypoint_weights']
        weights = weights[-1] if weights.ndim == 3 else weights  # (B, K), the last level's
        mask = to_numpy(weights) > 0
        pred = {k: v.float() if torch.is_tensor(v) else v for k, v in pred.items()}  # numpy has no bf16 (autocast)
        if 'coords' in pred:
            coords = pred['coords']
            _, avg_acc, _ = keypoint_pck_accuracy(
                pred=to_numpy(coords[..., :2]), gt=to_numpy(targets['keypoint_labels'][..., :2]), mask=mask,
                thr=0.05, norm_factor=np.ones((coords.shape[0], 2), dtype=np.float32))
        else:
            gt_heatmaps = targets['heatmaps']
            gt_heatmaps = gt_heatmaps[:, -1] if gt_heatmaps.ndim == 5 else gt_heatmaps  # (B, K, H, W)
            _, avg_acc, _ = pose_pck_accuracy(
                output=to_numpy(pred['heatmaps']), target=to_numpy(gt_heatmaps), mask=mask, thr=0.05)
        return torch.tensor(avg_acc, device=weights.device)

    @staticmethod
    def gather_targets(batch_data_samples: OptSampleList) -> Dict[str, Tensor]:
        """The batch's targets, stacked: each field of ``gt_fields`` and each label of ``gt_instance_labels``.

        Returns:
            dict: ``heatmaps`` (B, K, H, W), or (B, L, K, H, W) from multi-level ``gt_fields``, when the codec
            encoded heatmaps; every label concatenated over the instances: ``keypoint_weights`` (B, K) or
            (L, B, K) for multi-level weights, ``keypoint_labels`` (B, K, D), ``keypoint_depth_weights`` (B, K).
        """
        first = batch_data_samples[0]
        targets = {}
        fields = first.get('gt_fields')
        if fields is not None:
            for key in fields.keys():
                values = [getattr(sample.gt_fields, key) for sample in batch_data_samples]
                if isinstance(fields, MultilevelPixelData):
                    targets[key] = torch.stack([torch.stack(list(v)) for v in values])
                else:
                    targets[key] = torch.stack(values)
        labels = first.get('gt_instance_labels')
        if labels is not None:
            for key in labels.keys():
                targets[key] = torch.cat([getattr(sample.gt_instance_labels, key) for sample in batch_data_samples],
                                         dim=_LABEL_INSTANCE_AXIS.get(key, -2))
        return targets

    @staticmethod
    def split_flip_feats(feats: Features) -> Tuple[Features, Features]:
        """``(feats, flipped_feats)`` from what :class:`mmpose.models.TopdownPoseEstimator` passes in flip test
        (``[feats, flipped_feats]``); a ValueError for anything else."""
        if not (isinstance(feats, list) and len(feats) == 2):
            got = f'{type(feats).__name__} of length {len(feats)}' if hasattr(feats, '__len__') \
                else type(feats).__name__
            raise ValueError(f'flip_test expects feats = [feats, flipped_feats], got {got}')
        return feats[0], feats[1]

    @staticmethod
    def flip_back(outputs: Dict[str, Tensor], metainfo: Mapping, test_cfg: Mapping) -> Dict[str, Tensor]:
        """Outputs of the mirrored image, mirrored back with left/right keypoints swapped (mmpose's functions).

        Args:
            outputs (dict): ``heatmaps`` (B, K, H, W) and optionally ``coords`` (B, K, D) normalised to [0, 1).
            metainfo (Mapping): ``flip_indices`` (K, ), and ``input_size`` (w, h) for coordinates.
            test_cfg (Mapping): ``flip_mode``, ``shift_heatmap``, ``shift_coords`` (see :meth:`predict`).

        Returns:
            dict: The same keys, flipped back.
        """
        flipped = dict(heatmaps=flip_heatmaps(
            outputs['heatmaps'], flip_indices=metainfo['flip_indices'],
            flip_mode=test_cfg.get('flip_mode', 'heatmap'), shift_heatmap=test_cfg.get('shift_heatmap', False)))
        if 'coords' in outputs:
            flipped['coords'] = flip_coordinates(
                outputs['coords'], flip_indices=metainfo['flip_indices'],
                shift_coords=test_cfg.get('shift_coords', True), input_size=metainfo['input_size'])
        return flipped
