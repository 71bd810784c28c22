"""mmpose's ``PoseDataPreprocessor`` that moves a batch to the device in one copy, can crop it there, and renders the
training batch's targets on the model's device."""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.structures import MultilevelPixelData, PoseDataSample
from mmpose.utils.typing import ConfigType

from pose_plugins.registry import KEYPOINT_CODECS, MODELS
from .batch_warp import pad_to_batch, warp_affine_batch

__all__ = ['TopdownTargetDataPreprocessor']


@MODELS.register_module()
class TopdownTargetDataPreprocessor(PoseDataPreprocessor):
    """``PoseDataPreprocessor`` that, in training, renders the batch's targets with the codec's ``batch_encode`` on
    the inputs' device, stored where ``GenerateTarget`` + ``PackPoseInputs`` would put them.

    Pair it with ``PackTopdownInputs``. Samples that already have targets, and eval batches, are left as they are;
    ``use_dataset_keypoint_weights`` is not supported.

    On a GPU the uint8 images travel as one batch (stacked in pinned memory, one non-blocking copy) and are
    converted and normalised batched, which gives ``PoseDataPreprocessor``'s values exactly. When the
    samples carry a ``warp_matrix`` (``TopdownAffineMatrix`` in the pipeline instead of ``TopdownAffine``), the
    inputs are the whole source images and the affine crop runs here, batched on the device
    (:func:`~pose_plugins.models.data_preprocessors.batch_warp.warp_affine_batch`, OpenCV's ``warpAffine`` to the
    bound derived there).

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
        if not self._batches_at_once(data):
            data = super().forward(data=data, training=training)
        else:
            data = self._forward_batched(data, training)
        if training and data['data_samples'] is not None:
            self.encode_targets(data['data_samples'], device=data['inputs'].device)
        return data

    def _batches_at_once(self, data: dict) -> bool:
        """Whether the inputs are whole images with warp matrices, or (on a GPU) (3, H, W) uint8 tensors of one
        size, and no padding is asked for: the cases :meth:`_forward_batched` handles."""
        inputs, samples = data.get('inputs'), data.get('data_samples')
        if not isinstance(inputs, (list, tuple)) or not inputs or not samples or self.pad_size_divisor != 1:
            return False
        if not all(torch.is_tensor(x) and x.dtype == torch.uint8 and x.dim() == 3 and x.shape[0] == 3
                   for x in inputs):
            return False
        return _warps(samples) or (self._batch_on_device() and all(x.shape == inputs[0].shape for x in inputs))

    def _batch_on_device(self) -> bool:
        """Whether equal-sized images go as one batch: on a GPU (one copy and a few kernels instead of a few per
        image). On a CPU the parent's image-by-image normalisation is faster (each image stays in cache)."""
        return self.device.type == 'cuda'

    def _forward_batched(self, data: dict, training: bool) -> dict:
        """``PoseDataPreprocessor.forward`` for :meth:`_batches_at_once` batches, with one host -> device copy."""
        samples = data['data_samples']
        batch_pad_shape = self._get_pad_shape(data)
        images = pad_to_batch(data['inputs']).to(self.device, non_blocking=True)
        if _warps(samples):
            matrices = np.stack([sample.metainfo['warp_matrix'] for sample in samples]).astype(np.float64)
            sizes = np.array([(x.shape[2], x.shape[1]) for x in data['inputs']], dtype=np.int64)  # (W_i, H_i)
            width, height = samples[0].metainfo['input_size']
            images = warp_affine_batch(images, _to_device(sizes, images.device), _to_device(matrices, images.device),
                                       (int(width), int(height)))
            batch_pad_shape = [(int(height), int(width))] * len(samples)
        if self._channel_conversion:
            images = images[:, [2, 1, 0]]
        images = images.float()
        if self._enable_normalize:
            images = (images - self.mean) / self.std
        samples = self.cast_data(samples)
        batch_input_shape = tuple(images.shape[-2:])
        for sample, pad_shape in zip(samples, batch_pad_shape):
            sample.set_metainfo({'batch_input_shape': batch_input_shape, 'pad_shape': pad_shape})
        if training and self.batch_augments is not None:
            for batch_aug in self.batch_augments:
                images, samples = batch_aug(images, samples)
        return {'inputs': images, 'data_samples': samples}

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
        keypoints, visible = (_to_device(np.stack(values), device) for values in (keypoints, visible))
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


def _warps(samples: Sequence[PoseDataSample]) -> bool:
    """Whether the samples' images are still to be cropped (their pipeline ran ``TopdownAffineMatrix``)."""
    return 'warp_matrix' in samples[0].metainfo


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """``array`` on ``device``; to a GPU through pinned memory without waiting for the copy."""
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if torch.device(device).type == 'cuda':
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True)
