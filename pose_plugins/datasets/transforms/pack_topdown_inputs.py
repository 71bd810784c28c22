"""mmpose's ``PackPoseInputs`` for the training fast path: transformed keypoints packed, metadata not deep-copied."""
from typing import Sequence

from mmpose.datasets.transforms import PackPoseInputs

from pose_plugins.registry import TRANSFORMS

__all__ = ['PackTopdownInputs']

#: ``PackPoseInputs``' default metadata keys (mmpose 1.3.2).
DEFAULT_META_KEYS = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape', 'img_shape', 'input_size',
                     'input_center', 'input_scale', 'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
                     'dataset_name')


@TRANSFORMS.register_module()
class PackTopdownInputs(PackPoseInputs):
    """``PackPoseInputs`` that always packs ``transformed_keypoints`` and stores the metadata without copying it.

    The last transform of the fast training pipeline (no ``GenerateTarget`` before it): the sample carries
    ``gt_instances.transformed_keypoints`` (N, K, 2 or 3), the keypoints in input-image pixels after
    ``TopdownAffine``, and ``gt_instances.keypoints_visible`` (N, K), from which
    :class:`~pose_plugins.models.data_preprocessors.TopdownTargetDataPreprocessor` renders the batch's targets on
    the model's device. Targets that a ``GenerateTarget`` before it did encode are packed as by
    ``PackPoseInputs``, so it also serves mmpose's path.

    ``PackPoseInputs`` passes the metadata through ``set_metainfo``, which deep-copies it (40% of its time in a
    profile of the demo pipeline: ~50 ``copy.deepcopy`` calls a sample); every value here was created for this
    sample by the pipeline (``get_data_info`` copies the dataset's), so it is stored as is.

    Args:
        meta_keys (Sequence[str]): Metadata keys to pack, ``PackPoseInputs``' by default.
    """

    def __init__(self, *, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        super().__init__(meta_keys=tuple(meta_keys), pack_transformed=True)

    def transform(self, results: dict) -> dict:
        """``PackPoseInputs.transform`` with the metadata set as fields, not deep-copied.

        Returns:
            dict: ``inputs`` (Tensor, (C, h, w)) and ``data_samples`` (PoseDataSample).
        """
        meta_keys = set(self.meta_keys)
        packed = super().transform({key: value for key, value in results.items() if key not in meta_keys})
        sample = packed['data_samples']
        for key in self.meta_keys:
            if key in results:
                sample.set_field(results[key], key, field_type='metainfo')
        return packed
