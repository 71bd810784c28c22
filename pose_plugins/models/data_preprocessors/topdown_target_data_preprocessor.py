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
    """``PoseDataPreprocessor`` that, in training, renders the batch's targets with the codec's ``batch_encode`` on
    the inputs' device, stored where ``GenerateTarget`` + ``PackPoseInputs`` would put them.

    Pair it with ``PackTopdownInputs``. Samples that already have targets, and eval batches, are left as they are;
    ``use_dataset_keypoint_weights`` is not supported.

    Args:
        encoder (dict): Codec config with ``batch_encode`` (the config's shared ``codec``).
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
        data = super().forward(data=data, training=training)
        if training and data['data_samples'] is not None:
            self.encode_targets(data['data_samples'], device=data['inputs'].device)
        return data

    def encode_targets(self, data_samples: List[PoseDataSample], *, device: torch.device) -> None:
        """Encode the samples without targets in one call, from ``gt_instances.transformed_keypoints`` (N, K, D)
        (else ``keypoints``) and ``keypoints_visible`` (N, K) or (N, K, 2); N must be equal across samples.
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
        """Whether a ``GenerateTarget`` already encoded the sample's targets."""
        labels = sample.get('gt_instance_labels')
        return sample.get('gt_fields') is not None or (labels is not None and len(labels.keys()) > 0)
