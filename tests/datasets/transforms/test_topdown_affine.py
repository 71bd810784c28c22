"""pose_plugins.TopdownAffine: mmpose's crops, also of a flipped (negative-stride) image."""
import numpy as np
from mmpose.datasets.transforms import TopdownAffine as MMPoseTopdownAffine

from pose_plugins.datasets.transforms import TopdownAffine


def test_same_crop_and_keypoints_as_mmpose_on_views_and_lists():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    base = dict(bbox_center=np.array([[40.0, 30.0]], np.float32), bbox_scale=np.array([[50.0, 40.0]], np.float32),
                bbox_rotation=np.array([17.0], np.float32), keypoints=rng.uniform(0, 60, (1, 5, 2)).astype(np.float32),
                keypoints_visible=np.ones((1, 5), np.float32))
    for img in (image, image[:, ::-1], [image[:, ::-1], image]):  # a flip's view, and a list of images
        want = MMPoseTopdownAffine(input_size=(24, 32))(dict(base, img=img))
        got = TopdownAffine(input_size=(24, 32))(dict(base, img=img))
        for a, b in zip(np.atleast_1d(got['img']) if isinstance(img, list) else [got['img']],
                        want['img'] if isinstance(img, list) else [want['img']]):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(got['transformed_keypoints'], want['transformed_keypoints'])
