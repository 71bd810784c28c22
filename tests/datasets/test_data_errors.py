"""Bad data gives a clear error naming the file, or is skipped as mmpose does; never a crash deep in a stack."""
import json
import shutil

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.dataset import pseudo_collate
from mmpose.registry import DATASETS, MODELS

import pose_plugins  # noqa: F401
from conftest import DEMO_CONFIG


def _train_dataset(root, ann_file='annotations/person_keypoints_train2017.json'):
    cfg = Config.fromfile(str(DEMO_CONFIG))
    init_default_scope('mmpose')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=f'{root}/', ann_file=ann_file)
    return DATASETS.build(dataset_cfg)


@pytest.fixture
def coco_copy(tiny_coco, tmp_path):
    root = tmp_path / 'coco'
    shutil.copytree(tiny_coco, root)
    return root


def test_missing_image_names_the_file(coco_copy):
    dataset = _train_dataset(coco_copy)
    path = dataset[0]['data_samples'].metainfo['img_path']  # loads fine first
    (coco_copy / 'train2017' / path.rsplit('/', 1)[-1]).unlink()
    with pytest.raises(Exception, match=path.rsplit('/', 1)[-1]):
        dataset.prepare_data(0)


def test_corrupt_image_names_the_file(coco_copy):
    dataset = _train_dataset(coco_copy)
    name = dataset.get_data_info(0)['img_path'].rsplit('/', 1)[-1]
    (coco_copy / 'train2017' / name).write_bytes(b'this is not a jpeg')
    with pytest.raises(Exception, match=rf'failed to load image.*{name}'):
        dataset.prepare_data(0)


def test_degenerate_annotations_are_skipped_not_fatal(coco_copy):
    ann_path = coco_copy / 'annotations' / 'person_keypoints_train2017.json'
    data = json.loads(ann_path.read_text())
    valid = len(data['annotations'])
    template = data['annotations'][0]
    zero_area = dict(template, id=10_001, bbox=[10.0, 10.0, 0.0, 0.0], area=0.0)  # keypoints kept
    invisible = dict(template, id=10_002, keypoints=[0] * 51, num_keypoints=0)
    data['annotations'] += [zero_area, invisible]
    ann_path.write_text(json.dumps(data))
    dataset = _train_dataset(coco_copy)
    assert len(dataset) == valid
    ids = {dataset.get_data_info(i)['id'] for i in range(len(dataset))}
    assert not ids & {10_001, 10_002}
    # the config's data preprocessor renders the training targets (the fast data path)
    preprocessor = MODELS.build(Config.fromfile(str(DEMO_CONFIG)).model.data_preprocessor)
    (sample, ) = preprocessor(pseudo_collate([dataset[0]]), training=True)['data_samples']
    heatmaps = sample.gt_fields.heatmaps
    assert heatmaps.shape == (17, 32, 24) and np.isfinite(heatmaps.numpy()).all()


def test_missing_annotation_file_names_it(tmp_path):
    with pytest.raises(Exception, match='person_keypoints_train2017.json'):
        _train_dataset(tmp_path)
