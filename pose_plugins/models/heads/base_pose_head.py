"""What every top-down head of ours shares: decoder, default init, final layer, targets, flip test, loss flow.

A subclass defines ``__init__`` (``super().__init__(decoder=..., init_cfg=...)``, its layers, the last conv from
:meth:`BasePoseHead.build_final_layer`, its losses), ``forward(feats)`` (pure tensors) and ``loss_terms(outputs,
targets)``; ``prediction_outputs`` if ``forward`` returns more than one tensor. The base gives ``predict``: flip
test as in Xiao et al., "Simple Baselines for Human Pose Estimation and Tracking", ECCV 2018 (mirrored outputs
mapped back by ``flip_back`` and combined by ``merge_flipped``), then ``decode_outputs`` (the codec's
``batch_decode``, or a head's own ``decode_tensors``, which exported graphs run too); ``loss`` (``loss_terms`` +
``acc_pose``). The base adds no parameters, so heads matching mmpose's load its checkpoints with ``strict=True``.

Note:
    B: batch size (one instance per crop); K: keypoints; L: target levels (CPN); D: coordinate dims; H, W: heatmap
    size.
"""
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Tuple

import torch
from mmcv.cnn import build_conv_layer
from mmengine.structures import PixelData
from mmpose.models.heads.base_head import BaseHead
from mmpose.models.utils.tta import flip_coordinates, flip_heatmaps
from mmpose.structures import MultilevelPixelData
from mmpose.utils.typing import Features, OptConfigType, OptSampleList, Predictions
from torch import Tensor, nn

from pose_plugins.evaluation.pck_accuracy import keypoint_pck_accuracy, pose_pck_accuracy
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

    #: Per-crop outputs an exported graph gives after ``keypoints`` and ``scores`` (see :meth:`decode_tensors`).
    export_fields: Tuple[str, ...] = ()

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
        """The head's losses from :meth:`forward`'s ``outputs`` and :meth:`gather_targets`' ``targets``: a
        dict of scalars (mmengine sums every entry whose name contains ``loss``)."""
        raise NotImplementedError(f'{type(self).__name__} must define loss_terms(outputs, targets)')

    def prediction_outputs(self, outputs: Any) -> Dict[str, Tensor]:
        """The outputs decoded and scored: ``heatmaps`` (B, K, H, W), or ``coords`` (B, K, D) for a coordinate
        head. The default takes ``forward``'s single heatmap tensor."""
        return dict(heatmaps=outputs)

    # ---- shared behaviour -------------------------------------------------------------------------------------

    def predict(self,
                feats: Features,
                batch_data_samples: OptSampleList,
                test_cfg: OptConfigType = None) -> Predictions:
        """Per-sample predictions of the batch, with optional horizontal flip test.

        Args:
            feats (Tuple[Tensor] | List[Tuple[Tensor]]): Features, or ``[feats, flipped_feats]`` with flip test.
            batch_data_samples (List[PoseDataSample]): The first one's ``metainfo`` gives ``flip_indices`` (and
                ``input_size`` for coordinates).
            test_cfg (dict, optional): ``flip_test``; ``flip_mode``, ``shift_heatmap`` (heatmaps),
                ``shift_coords`` (coordinates, default True: mirrored x is ``w - 1 - x``), ``output_heatmaps``.

        Returns:
            List[InstanceData]: ``keypoints`` (1, K, D) in crop pixels and ``keypoint_scores`` (1, K) per sample
            (and the head's own fields); with ``output_heatmaps`` also a ``PixelData`` per sample.
        """
        if test_cfg is None:
            test_cfg = {}
        feats_flipped = None
        if test_cfg.get('flip_test', False):
            feats, feats_flipped = self.split_flip_feats(feats)
        outputs = self.test_time_outputs(feats, feats_flipped, batch_data_samples[0].metainfo, test_cfg)
        preds = self.decode_outputs(outputs)
        if test_cfg.get('output_heatmaps', False):
            return preds, [PixelData(heatmaps=heatmaps) for heatmaps in outputs['heatmaps'].detach()]
        return preds

    def test_time_outputs(self, feats: Tuple[Tensor], feats_flipped: Optional[Tuple[Tensor]], metainfo: dict,
                          test_cfg: dict) -> Dict[str, Tensor]:
        """The tensors :meth:`predict` decodes: :meth:`prediction_outputs` of ``feats``, combined with the
        mirrored crops' (``feats_flipped``, mapped back by :meth:`flip_back`) by :meth:`merge_flipped`. Tensor
        operations only, so an exported graph runs this step too; ``metainfo`` and ``test_cfg`` as in
        :meth:`predict`."""
        outputs = self.prediction_outputs(self.forward(feats))
        if feats_flipped is not None:
            flipped = self.flip_back(self.prediction_outputs(self.forward(feats_flipped)), metainfo, test_cfg)
            outputs = self.merge_flipped(outputs, flipped)
        return outputs

    def merge_flipped(self, outputs: Dict[str, Tensor], flipped: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """The flip test's combination of the crops' outputs with the mirrored crops' (mapped back): the mean."""
        return {key: (value + flipped[key]) * 0.5 for key, value in outputs.items()}

    def decode_tensors(self, outputs: Dict[str, Tensor]) -> Optional[Dict[str, Tensor]]:
        """Tensor-only decoding of :meth:`test_time_outputs` for heads without a codec (``keypoints`` (B, K, D) in
        crop pixels, ``scores`` (B, K), then the head's own fields), which an exported graph runs; None: decode
        through the codec."""
        return None

    def decode_outputs(self, outputs: Dict[str, Tensor]) -> Predictions:
        """Per-sample predictions of :meth:`test_time_outputs`: ``coords`` or ``heatmaps`` through the decoder
        (the codec's ``batch_decode``).

        Returns:
            List[InstanceData]: ``keypoints`` (1, K, D) in crop pixels and ``keypoint_scores`` (1, K) per sample.
        """
        if 'coords' in outputs:
            return self.decode(outputs['coords'][:, None])  # (B, 1, K, D): one instance per sample
        return self.decode(outputs['heatmaps'])

    def loss(self,
             feats: Features,
             batch_data_samples: OptSampleList,
             train_cfg: OptConfigType = None) -> dict:
        """:meth:`loss_terms` of the batch and, unless ``train_cfg['compute_acc']`` is False, ``acc_pose``."""
        if train_cfg is None:
            train_cfg = {}
        outputs = self.forward(feats)
        targets = self.gather_targets(batch_data_samples)
        losses = self.loss_terms(outputs, targets)
        if train_cfg.get('compute_acc', True):
            losses['acc_pose'] = self.accuracy(outputs, targets)
        return losses

    def accuracy(self, outputs: Any, targets: Dict[str, Tensor]) -> Tensor:
        """PCK@0.05 (mmpose's ``acc_pose``) of the heatmap maxima against the (last-level) targets, or of a
        coordinate head's normalised x, y against ``keypoint_labels``: a () float64 tensor computed on the
        outputs' device (nothing is copied to the host, so a training step does not wait for the GPU here)."""
        pred = self.prediction_outputs(outputs)
        weights = targets['keypoint_weights']
        weights = weights[-1] if weights.ndim == 3 else weights  # (B, K), the last level's
        mask = weights > 0
        with torch.no_grad():
            if 'coords' in pred:
                coords = pred['coords'].detach()
                ones = torch.ones((coords.shape[0], 2), dtype=torch.float32, device=coords.device)
                return keypoint_pck_accuracy(coords[..., :2], targets['keypoint_labels'][..., :2], mask, 0.05, ones)
            gt_heatmaps = targets['heatmaps']
            gt_heatmaps = gt_heatmaps[:, -1] if gt_heatmaps.ndim == 5 else gt_heatmaps  # (B, K, H, W)
            return pose_pck_accuracy(pred['heatmaps'].detach(), gt_heatmaps, mask, thr=0.05)

    @staticmethod
    def gather_targets(batch_data_samples: OptSampleList) -> Dict[str, Tensor]:
        """The batch's ``gt_fields`` stacked (``heatmaps`` (B, K, H, W) or multi-level (B, L, K, H, W)) and
        ``gt_instance_labels`` concatenated over the instances (``keypoint_weights`` (B, K) or (L, B, K),
        ``keypoint_labels`` (B, K, D), ...)."""
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

    def flip_back(self, outputs: Dict[str, Tensor], metainfo: Mapping, test_cfg: Mapping) -> Dict[str, Tensor]:
        """Outputs of the mirrored crops mapped back with left/right keypoints swapped (mmpose's
        ``flip_heatmaps`` / ``flip_coordinates``): ``heatmaps`` (B, K, H, W), ``coords`` (B, K, D) in [0, 1)."""
        flipped = dict(heatmaps=flip_heatmaps(
            outputs['heatmaps'], flip_indices=metainfo['flip_indices'],
            flip_mode=test_cfg.get('flip_mode', 'heatmap'), shift_heatmap=test_cfg.get('shift_heatmap', False)))
        if 'coords' in outputs:
            flipped['coords'] = flip_coordinates(
                outputs['coords'], flip_indices=metainfo['flip_indices'],
                shift_coords=test_cfg.get('shift_coords', True), input_size=metainfo['input_size'])
        return flipped
