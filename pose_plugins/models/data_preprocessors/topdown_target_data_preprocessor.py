"""mmpose's ``PoseDataPreprocessor`` that also renders the training batch's targets, on the model's device."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.structures import MultilevelPixelData, PoseDataSample
from mmpose.utils.typing import ConfigType

from pose_plugins.registry import KEYPOINT_CODECS, MODELS

__all__ = ['TopdownTargetDataPreprocessor']


@MODELS.register_module()
class TopdownTargetDataPreprocessor(PoseDataPreprocessor):
    """``PoseDataPreprocessor`` (stack, move to the device, BGR->RGB, normalise) that, in training, encodes the
    batch's targets with the codec's loop-free ``batch_encode`` on the inputs' device.

    The fast training data path (issue 9): the data workers run the pipeline up to ``TopdownAffine`` and pack the
    transformed keypoints (``pose_plugins.PackTopdownInputs``) instead of rendering, packing and collating
    ``(K, H, W)`` heatmaps per sample (``GenerateTarget`` + ``PackPoseInputs``); here the whole batch's targets
    are rendered at once and stored in each data sample where ``GenerateTarget`` + ``PackPoseInputs`` put them
    (``gt_fields`` after the codec's ``field_mapping_table``: ``PixelData``, or ``MultilevelPixelData`` for a
    multi-level codec; ``gt_instance_labels`` after its ``label_mapping_table``; tensors on the device, views
    into the batch's), so every head, ours and mmpose's, reads them unchanged. The targets equal the per-sample
    encode's (the codecs' ``batch_encode`` docstrings give the float32 rounding, < 1e-6).

    Samples whose targets a ``GenerateTarget`` in the pipeline already encoded (``gt_fields`` or
    ``gt_instance_labels`` present) are left as they are, so mmpose's path works with this preprocessor too; so are
    validation and test batches (``training=False``). ``GenerateTarget(use_dataset_keypoint_weights=True)`` has no
    equivalent here: keep ``GenerateTarget`` for it.

    Note:
        - B: batch size; N: instances per sample (1 in top-down); K: keypoints; D: keypoint dims (2, or 3 for a
          3D codec)

    Args:
        encoder (dict): Config of the codec (``KEYPOINT_CODECS``) with ``batch_encode``, the one
            ``GenerateTarget(encoder=...)`` would have: the config's shared ``codec`` dict.
        mean, std, pad_size_divisor, pad_value, bgr_to_rgb, rgb_to_bgr, non_blocking, batch_augments: as
            ``PoseDataPreprocessor``.
    """

    def __init__(self,
                 *,
                 encoder: ConfigType,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 non_blocking: Optional[bool] = False,
                 batch_augments: Optional[List[dict]] = None) -> None:
        super().__init__(mean=mean, std=std, pad_size_divisor=pad_size_divisor, pad_value=pad_value,
                         bgr_to_rgb=bgr_to_rgb, rgb_to_bgr=rgb_to_bgr, non_blocking=non_blocking,
                         batch_augments=batch_augments)
        self.encoder = KEYPOINT_CODECS.build(encoder)
        if not hasattr(self.encoder, 'batch_encode'):
            raise ValueError(f'TopdownTargetDataPreprocessor: the encoder {type(self.encoder).__name__} has no '
                             f'batch_encode; use GenerateTarget in the pipeline and PoseDataPreprocessor')

    def forward(self, data: dict, training: bool = False) -> dict:
        """``PoseDataPreprocessor.forward``, then, in training, :meth:`encode_targets` on the inputs' device.

        Returns:
            dict: ``inputs`` (B, C, h, w) and ``data_samples`` (with targets in training).
        """
        data = super().forward(data=data, training=training)
        if training and data['data_samples'] is not None:
            self.encode_targets(data['data_samples'], device=data['inputs'].device)
        return data

    def encode_targets(self, data_samples: List[PoseDataSample], *, device: torch.device) -> None:
        """Render the targets of the samples that have none, in one ``batch_encode`` call, and store them.

        Reads each sample's ``gt_instances.transformed_keypoints`` (N, K, D) (``keypoints`` where absent) and
        ``gt_instances.keypoints_visible`` (N, K), or (N, K, 2) with per-keypoint weights in the last column as
        ``GenerateTarget`` reads it (the first column is the visibility); all samples must have the same N.
        """
        todo = [s for s in data_samples if not self._has_targets(s)]
        if not todo:
            return
        keypoints, visible = [], []
        for sample in todo:
            instances = sample.gt_instances
            keypoints.append(instances.transformed_keypoints if 'transformed_keypoints' in instances
                             else instances.keypoints)
            visible.append(instances.keypoints_visible)
        keypoints, visible = (torch.as_tensor(np.stack(values)).to(device) for values in (keypoints, visible))
        if visible.ndim == 4:  # (B, N, K, 2): visibility and weight, as GenerateTarget splits them
            visible = visible[..., 0]
        encoded = self.encoder.batch_encode(keypoints.float(), visible.float())
        fields = {packed: encoded[key] for key, packed in self.encoder.field_mapping_table.items() if key in encoded}
        labels = {packed: encoded[key] for key, packed in self.encoder.label_mapping_table.items() if key in encoded}
        for i, sample in enumerate(todo):
            if fields:
                multilevel = next(iter(fields.values())).ndim == 5  # (B, L, K, H, W)
                if multilevel:
                    sample.gt_fields = MultilevelPixelData(**{k: list(v[i].unbind(0)) for k, v in fields.items()})
                else:
                    sample.gt_fields = PixelData(**{k: v[i] for k, v in fields.items()})
            sample.gt_instance_labels = InstanceData(**{k: v[i] for k, v in labels.items()})

    @staticmethod
    def _has_targets(sample: PoseDataSample) -> bool:
        """Whether a ``GenerateTarget`` encoded the sample's targets (``PackPoseInputs`` always sets
        ``gt_instance_labels``, empty without targets)."""
        labels = sample.get('gt_instance_labels')
        return sample.get('gt_fields') is not None or (labels is not None and len(labels.keys()) > 0)
