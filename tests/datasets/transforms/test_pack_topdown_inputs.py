"""pose_plugins.PackTopdownInputs: what PackPoseInputs(pack_transformed=True) packs, metadata included."""
import copy

import numpy as np
import torch
from mmpose.datasets.transforms import PackPoseInputs

from pose_plugins.datasets.transforms import PackTopdownInputs


def test_pack_topdown_inputs_packs_what_pack_pose_inputs_does():
    rng = np.random.default_rng(0)
    results = dict(img=rng.integers(0, 255, (8, 6, 3), dtype=np.uint8), keypoints=rng.random((1, 3, 2)),
                   transformed_keypoints=rng.random((1, 3, 2)), keypoints_visible=np.ones((1, 3)),
                   bbox=np.zeros((1, 4)), img_id=7, flip_indices=[0, 2, 1], input_size=(6, 8), extra='not packed')
    ours = PackTopdownInputs()(copy.deepcopy(results))
    theirs = PackPoseInputs(pack_transformed=True)(copy.deepcopy(results))
    assert torch.equal(ours['inputs'], theirs['inputs'])
    assert ours['data_samples'].metainfo == theirs['data_samples'].metainfo
    for key in ('keypoints', 'transformed_keypoints', 'keypoints_visible', 'bboxes'):
        np.testing.assert_array_equal(ours['data_samples'].gt_instances.get(key),
                                      theirs['data_samples'].gt_instances.get(key))
    # GenerateTarget's targets, when present, are packed as by PackPoseInputs (mmpose's path with our pack)
    encoded = dict(results, heatmaps=np.ones((3, 4, 2), np.float32), keypoint_weights=np.ones((1, 3), np.float32),
                   field_mapping_table=dict(heatmaps='heatmaps'),
                   label_mapping_table=dict(keypoint_weights='keypoint_weights'))
    sample = PackTopdownInputs()(encoded)['data_samples']
    assert torch.equal(sample.gt_fields.heatmaps, torch.ones(3, 4, 2))
    assert torch.equal(sample.gt_instance_labels.keypoint_weights, torch.ones(1, 3))
