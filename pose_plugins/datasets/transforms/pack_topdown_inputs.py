"""mmpose's ``PackPoseInputs`` for the training fast path: transformed keypoints packed, metadata not deep-copied."""
from typing import Sequence

from mmpose.datasets.transforms import PackPoseInputs

from pose_plugins.registry import TRANSFORMS

__all__ = ['PackTopdownInputs']

#: ``PackPoseInputs``' default metadata keys (mmpose 1.3.2), and ``warp_matrix`` (``TopdownAffineMatrix``'s crop,
#: done on the device by ``TopdownTargetDataPreprocessor``).
DEFAULT_META_KEYS = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape', 'img_shape', 'input_size',
                     'input_center', 'input_scale', 'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
                     'dataset_name', 'warp_matrix')


@TRANSFORMS.register_module()
class PackTopdownInputs(PackPoseInputs):
    """``PackPoseInputs`` that always packs ``transformed_keypoints`` and stores the metadata without copying it.

    ``gt_instances.transformed_keypoints`` (N, K, 2 or 3), in input pixels, feed
    :class:`~pose_plugins.models.data_preprocessors.TopdownTargetDataPreprocessor`. The pipeline owns the metadata.

    Args:
        meta_keys (Sequence[str]): Metadata keys to pack, ``PackPoseInputs``' by default.
    """

    def __init__(self, *, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        super().__init__(meta_keys=tuple(meta_keys), pack_transformed=True)

    def transform(self, results: dict) -> dict:
        """Returns ``inputs`` (Tensor, (C, h, w)) and ``data_samples`` (PoseDataSample)."""
        meta_keys = set(self.meta_keys)
        packed = super().transform({key: value for key, value in results.items() if key not in meta_keys})
        sample = packed['data_samples']
        for key in self.meta_keys:
            if key in results:
                sample.set_field(results[key], key, field_type='metainfo')
        return packed
