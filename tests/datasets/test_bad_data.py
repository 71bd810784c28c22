"""Malformed data through the real dataset -> pipeline -> model path (in-process) and through a real training
run (tools/train.py, one subprocess), each case with its expected behaviour beside it.

Every case ends in one of two ways, never in a NaN loss, a hang or a trace with no hint:

- ``skip``: the dataset (``pose_plugins.CocoKeypointDataset``, what our configs use) loads without the bad
  sample(s), with exactly one warning per skipped sample naming the annotation file, the annotation id, the image
  file and the field; the other samples go through the train pipeline and the model with a finite loss;
- ``error``: building the dataset raises an error naming the file and the field;
- ``train``: nothing is skipped (the data is unusual but fine), and the loss is finite.

The inferencer's cases are in tests/inference/test_bad_inference_input.py.
"""
import json
import logging
import math
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

import pose_plugins  # noqa: F401
from conftest import DEMO_CONFIG, run_tool, tiny_run_options

TRAIN_ANN = 'annotations/person_keypoints_train2017.json'
VAL_ANN = 'annotations/person_keypoints_val2017.json'
BBOX_FILE = 'person_detection_results/val_gt_boxes.json'


# ------------------------------------------------------------------------------------------------------------------
# fixtures and helpers
# ------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def base_set(tmp_path_factory) -> Path:
    """6 train images (14 people, 2 or 3 on most images) and 2 val images, seed 7."""
    from pose_plugins.synthetic import make_synthetic_coco
    root = tmp_path_factory.mktemp('bad_data_base')
    make_synthetic_coco(str(root), num_train_images=6, num_val_images=2, seed=7)
    return root


@pytest.fixture(scope='module')
def clean_ids(base_set) -> list:
    """The annotation ids of the base set's train samples, in data-list order."""
    return ids_of(build(base_set))


@pytest.fixture
def root(base_set, tmp_path) -> Path:
    """A fresh copy of the base set for one case to corrupt."""
    copy = tmp_path / 'coco'
    shutil.copytree(base_set, copy)
    return copy


@pytest.fixture
def warnings_seen():
    """The WARNING (and above) messages mmengine's current logger prints during the test."""
    logger = MMLogger.get_current_instance()
    messages = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


@pytest.fixture(scope='module')
def model():
    """The demo config's model (0.77 M parameters), seeded; train mode."""
    init_default_scope('mmpose')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(str(DEMO_CONFIG)).model).train()


def build(root: Path, split: str = 'train', **overrides):
    """The demo config's train (or val: test_mode, detection boxes) dataset on ``root``, built by the registry."""
    cfg = Config.fromfile(str(DEMO_CONFIG))
    init_default_scope('mmpose')
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    dataset_cfg = loader.dataset
    dataset_cfg.update(data_root=f'{root}/')
    if split == 'val':
        dataset_cfg.update(bbox_file=f'{root}/{BBOX_FILE}')
    dataset_cfg.update(overrides)
    return DATASETS.build(dataset_cfg)


def read(root: Path, name: str = TRAIN_ANN):
    return json.loads((root / name).read_text())


def write(root: Path, data, name: str = TRAIN_ANN) -> None:
    (root / name).write_text(json.dumps(data))  # NaN / Infinity written as JSON's common extension


def ids_of(dataset) -> list:
    return [dataset.get_data_info(i)['id'] for i in range(len(dataset))]


def finite_loss(dataset, model) -> float:
    """Every sample through the train pipeline and the model's data preprocessor, which renders the training
    targets (the fast data path; with mmpose's GenerateTarget in the pipeline it keeps the pipeline's): finite
    heatmaps, keypoint weights in [0, 1]; the first two through the model: their summed loss, which must be
    finite."""
    torch.manual_seed(0)
    samples = [dataset[i] for i in range(len(dataset))]
    batch = model.data_preprocessor(pseudo_collate(samples), training=True)
    for sample in batch['data_samples']:
        fields, labels = sample.gt_fields, sample.gt_instance_labels
        weights = labels.keypoint_weights.numpy()
        assert np.isfinite(fields.heatmaps.numpy()).all() and ((weights >= 0) & (weights <= 1)).all()
    with torch.no_grad():
        losses = model(**model.data_preprocessor(pseudo_collate(samples[:2]), training=True), mode='loss')
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    assert math.isfinite(float(total)), losses
    return float(total)


def image_of(data, ann) -> dict:
    return next(img for img in data['images'] if img['id'] == ann['image_id'])


def anns_of_image(data, image_id) -> set:
    return {a['id'] for a in data['annotations'] if a['image_id'] == image_id}


# ------------------------------------------------------------------------------------------------------------------
# one annotation or its image made bad: (corrupt, expected behaviour)
# Each corrupt(root, data) edits the train set (data: the annotation file's dict, written back afterwards) and
# returns (skipped annotation ids, field, reason regex). The target is the first annotation (image 1, 2 people).
# ------------------------------------------------------------------------------------------------------------------
def _keypoints(value):
    def corrupt(root, data):
        ann = data['annotations'][0]
        ann['keypoints'] = value(ann['keypoints'])
        return {ann['id']}
    return corrupt


def _bbox(box):
    def corrupt(root, data):
        ann = data['annotations'][0]
        ann['bbox'] = box
        return {ann['id']}
    return corrupt


def _image_file(edit):
    def corrupt(root, data):
        img = image_of(data, data['annotations'][0])
        edit(root / 'train2017' / img['file_name'])
        return anns_of_image(data, img['id'])
    return corrupt


def _with(i, v):
    def edit(kpts):
        kpts = list(kpts)
        kpts[i] = v
        return kpts
    return edit


def _resize(path):
    cv2.imwrite(str(path), cv2.resize(cv2.imread(str(path)), (200, 150)))


def _orphan(root, data):
    ann = dict(data['annotations'][0], id=9001, image_id=999)
    data['annotations'].append(ann)
    return {9001}


SKIP_CASES = {
    # case: (corrupt, field, reason)                     expected: skipped, one warning naming file + id + field
    'missing image': (_image_file(Path.unlink), 'file_name', 'image file does not exist'),
    'truncated JPEG': (_image_file(lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2])),
                       'file_name', 'image file is truncated'),
    'zero-byte image file': (_image_file(lambda p: p.write_bytes(b'')), 'file_name', r'empty \(0 bytes\)'),
    'image file that is not an image': (_image_file(lambda p: p.write_bytes(b'<html>not found</html>')),
                                        'file_name', 'not a readable image'),
    'image size disagrees with the annotation': (_image_file(_resize), 'file_name',
                                                 r'image is 200x150 pixels but .*width=256, height=256'),
    'bbox of zero size': (_bbox([10.0, 10.0, 0.0, 40.0]), 'bbox', 'zero or negative size'),
    'bbox of negative size': (_bbox([50.0, 60.0, -20.0, 40.0]), 'bbox', 'zero or negative size'),
    'bbox outside the image': (_bbox([400.0, 20.0, 50.0, 80.0]), 'bbox', 'outside the 256x256 image'),
    'bbox with NaN': (_bbox([10.0, float('nan'), 50.0, 80.0]), 'bbox', 'not .* finite numbers'),
    'keypoints with NaN': (_keypoints(_with(3, float('nan'))), 'keypoints', r'NaN/inf at keypoint indices \[1\]'),
    'keypoints with inf': (_keypoints(_with(0, float('inf'))), 'keypoints', r'NaN/inf at keypoint indices \[0\]'),
    'fewer keypoints than the metainfo': (_keypoints(lambda k: k[:-3]), 'keypoints',
                                          r'has 48 values; .* 17 keypoints = 51 values'),
    'more keypoints than the metainfo': (_keypoints(lambda k: k + [10, 10, 2]), 'keypoints',
                                         r'has 54 values; .* 17 keypoints = 51 values'),
    'keypoints that are not numbers': (_keypoints(lambda k: [str(v) for v in k]), 'keypoints',
                                       'not a flat list of numbers'),
    'keypoints missing': (_keypoints(lambda k: None), 'keypoints', 'missing'),
    # mmpose would keep this one (its num_keypoints field still says 17) and train on all-zero target weights
    'all keypoints invisible': (_keypoints(lambda k: [v if i % 3 < 2 else 0 for i, v in enumerate(k)]),
                                'keypoints', 'no labelled keypoint'),
    'visibility flag 3': (_keypoints(_with(2, 3)), 'keypoints', r'visibility flags \[3.0\] .* outside \{0, 1, 2\}'),
    'visibility flag -1': (_keypoints(_with(5, -1)), 'keypoints', r'visibility flags \[-1.0\] .* outside'),
    'annotation of an image id with no images entry': (_orphan, 'image_id', 'has no entry in "images"'),
}


@pytest.mark.parametrize('case', SKIP_CASES)
def test_bad_sample_is_skipped_with_one_warning(case, root, clean_ids, model, warnings_seen):
    corrupt, field, reason = SKIP_CASES[case]
    data = read(root)
    skipped = corrupt(root, data)
    write(root, data)

    dataset = build(root)

    assert ids_of(dataset) == [i for i in clean_ids if i not in skipped]
    for ann_id in skipped:
        named = [m for m in warnings_seen if re.search(rf'annotation id {ann_id}\b', m)]
        assert len(named) == 1, (ann_id, warnings_seen)
        assert TRAIN_ANN in named[0] and f' {field} ' in named[0] and re.search(reason, named[0]), named[0]
        if field != 'image_id':
            assert re.search(r'train2017/\S+\.jpg', named[0]), named[0]
    assert sorted(s[1] for s in dataset.skipped) == sorted(skipped)
    finite_loss(dataset, model)


@pytest.mark.parametrize('case,edit', [('deleted', Path.unlink), ('overwritten', lambda p: p.write_bytes(b'x'))])
def test_image_that_goes_bad_after_loading_stops_naming_it(case, edit, root):
    """Expected: error naming the file, from mmpose's LoadImage (the file passed the load-time check, then
    changed under the run; a skip here would change the epoch's sample count)."""
    dataset = build(root)
    path = Path(dataset.get_data_info(0)['img_path'])
    edit(path)
    with pytest.raises(Exception, match=re.escape(path.name)):
        dataset.prepare_data(0)


# ------------------------------------------------------------------------------------------------------------------
# unusual but usable images: trained on, nothing skipped
# ------------------------------------------------------------------------------------------------------------------
def _as_png(convert):
    """The first annotation's image rewritten as a PNG (``convert`` of its BGR pixels), file_name updated."""
    def corrupt(root, data):
        img = image_of(data, data['annotations'][0])
        path = root / 'train2017' / img['file_name']
        pixels = convert(cv2.imread(str(path)))
        path.unlink()
        img['file_name'] = img['file_name'].replace('.jpg', '.png')
        assert cv2.imwrite(str(root / 'train2017' / img['file_name']), pixels)
        return img, pixels
    return corrupt


def _unicode_name(root, data):
    img = image_of(data, data['annotations'][0])
    new = 'Bild_人物_ü.jpg'
    (root / 'train2017' / img['file_name']).rename(root / 'train2017' / new)
    img['file_name'] = new
    return img, cv2.imdecode(np.fromfile(root / 'train2017' / new, np.uint8), cv2.IMREAD_COLOR)


GRAY = lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)  # noqa: E731
USABLE_CASES = {
    # case: (corrupt, what LoadImage gives: a function of the stored pixels)   expected: trains on, no warning
    'grayscale PNG': (_as_png(GRAY), lambda p: cv2.cvtColor(p, cv2.COLOR_GRAY2BGR)),
    '4-channel PNG (BGRA)': (_as_png(lambda bgr: cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)), lambda p: p[..., :3]),
    # OpenCV's IMREAD_COLOR keeps the high byte of 16-bit samples: v * 257 -> v
    '16-bit PNG': (_as_png(lambda bgr: GRAY(bgr).astype(np.uint16) * 257),
                   lambda p: cv2.cvtColor((p // 257).astype(np.uint8), cv2.COLOR_GRAY2BGR)),
    'unicode image path': (_unicode_name, lambda p: p),
}


@pytest.mark.parametrize('case', USABLE_CASES)
def test_unusual_image_trains_on(case, root, clean_ids, model, warnings_seen):
    corrupt, expected = USABLE_CASES[case]
    data = read(root)
    img, stored = corrupt(root, data)
    write(root, data)

    dataset = build(root)

    assert ids_of(dataset) == clean_ids and not dataset.skipped
    assert not [m for m in warnings_seen if 'CocoKeypointDataset' in m], warnings_seen
    index = next(i for i in range(len(dataset)) if dataset.get_data_info(i)['img_id'] == img['id'])
    loaded = dataset.pipeline.transforms[0](dataset.get_data_info(index))  # LoadImage
    assert loaded['img_path'].endswith(img['file_name'])
    assert loaded['img'].dtype == np.uint8 and loaded['img'].shape == (256, 256, 3)
    np.testing.assert_array_equal(loaded['img'], expected(stored))
    finite_loss(dataset, model)


# ------------------------------------------------------------------------------------------------------------------
# bad files: the run stops with an error naming the file and the field
# ------------------------------------------------------------------------------------------------------------------
def _duplicate_id(root, data):
    data['annotations'][1]['id'] = data['annotations'][0]['id']


def _set(key, value):
    def corrupt(root, data):
        if value is KeyError:
            del data[key]
        else:
            data[key] = value
    return corrupt


def _drop_image_field(root, data):
    del data['images'][2]['height']


ERROR_CASES = {
    # case: (corrupt of the train annotation dict, or the file's new text; error regex)   expected: error
    # xtcocotools would index one of the two annotations twice and lose the other
    'duplicated annotation ids': (_duplicate_id, r'duplicated "id" in "annotations": \[1\]'),
    'duplicated image ids': (lambda root, data: data['images'][1].update(id=data['images'][0]['id']),
                             r'duplicated "id" in "images"'),
    'annotation file is a list, not COCO': ('[{"id": 1}]', r'is not a COCO annotation file: its top level is a list'),
    'annotation file without "annotations"': (_set('annotations', KeyError), r'"annotations" is missing'),
    'annotation file with "images" not a list': (_set('images', {}), r'"images" is not a list'),
    'image entry without a field': (_drop_image_field, r'images\[2\] has no "height"'),
    'annotation file that is not JSON': ('{"images": [', r'is not a JSON file'),
    'annotation file missing': (None, r'does not exist'),
    'no usable sample (every annotation bad)': (
        lambda root, data: [a.update(bbox=[0, 0, 0, 0]) for a in data['annotations']],
        r'no usable sample in .*all 14 skipped'),
}


@pytest.mark.parametrize('case', ERROR_CASES)
def test_bad_annotation_file_stops_naming_file_and_field(case, root):
    corrupt, message = ERROR_CASES[case]
    if corrupt is None:
        (root / TRAIN_ANN).unlink()
    elif isinstance(corrupt, str):
        (root / TRAIN_ANN).write_text(corrupt)
    else:
        data = read(root)
        corrupt(root, data)
        write(root, data)
    with pytest.raises((ValueError, FileNotFoundError), match=message) as err:
        build(root)
    assert TRAIN_ANN in str(err.value)


# ------------------------------------------------------------------------------------------------------------------
# the val / test set (test_mode, person boxes from a detection file)
# ------------------------------------------------------------------------------------------------------------------
def test_empty_val_set_stops_naming_the_file(root):
    """Expected: error. mmengine would run a val loop over nothing and CocoMetric would report no metric."""
    data = read(root, VAL_ANN)
    write(root, dict(data, images=[], annotations=[]), VAL_ANN)
    (root / BBOX_FILE).write_text('[]')
    with pytest.raises(ValueError, match=rf'no usable sample in \S*{BBOX_FILE}: it is empty'):
        build(root, 'val')
    with pytest.raises(ValueError, match=rf'no usable sample in \S*{VAL_ANN}: it is empty'):
        build(root, 'val', bbox_file=None)


def test_detection_of_an_image_not_in_the_annotation_file_stops(root):
    """Expected: error naming the detection file, the entry and image_id (mmpose: ``KeyError: 77``, no file)."""
    dets = json.loads((root / BBOX_FILE).read_text())
    dets[1]['image_id'] = 77
    (root / BBOX_FILE).write_text(json.dumps(dets))
    with pytest.raises(ValueError, match=rf'{BBOX_FILE}: detection 1 has image_id 77, which \S*{VAL_ANN} has no'):
        build(root, 'val')


def test_detection_file_whose_image_is_missing_on_disk_stops(root):
    """Expected: error naming the image (a metric without it would count its people as missed)."""
    (root / 'val2017' / '000000000002.jpg').unlink()
    with pytest.raises(ValueError, match=r'val2017/000000000002.jpg .*image file does not exist; evaluation needs'):
        build(root, 'val')


def test_detection_file_without_some_images_evaluates_the_rest(root, warnings_seen):
    """Expected: runs; an image no detection names gives no sample (a detector may find nobody), no warning."""
    dets = [d for d in json.loads((root / BBOX_FILE).read_text()) if d['image_id'] != 2]
    (root / BBOX_FILE).write_text(json.dumps(dets))
    dataset = build(root, 'val')
    assert len(dataset) == len(dets) and {dataset.get_data_info(i)['img_id'] for i in range(len(dataset))} == {1}
    assert not dataset.skipped


def test_detection_with_a_degenerate_box_is_skipped(root, warnings_seen):
    """Expected: skipped with one warning naming the detection file, the detection and the field."""
    dets = json.loads((root / BBOX_FILE).read_text())
    dets[0]['bbox'] = [5.0, 5.0, 0.0, 30.0]
    dets[1]['score'] = float('nan')
    (root / BBOX_FILE).write_text(json.dumps(dets))
    dataset = build(root, 'val')
    assert len(dataset) == len(dets) - 2
    for index, field in ((0, 'bbox'), (1, 'score')):
        named = [m for m in warnings_seen if f'detection {index} ' in m]
        assert len(named) == 1 and BBOX_FILE in named[0] and f' {field} ' in named[0], warnings_seen


# ------------------------------------------------------------------------------------------------------------------
# the Runner: 10% bad samples, same good samples seen as the clean set
# ------------------------------------------------------------------------------------------------------------------
HOOK = '''
import json
import math
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RecordSamplesHook(Hook):
    """Writes the annotation ids of every training sample and every loss to work_dir/seen.json."""

    def before_run(self, runner):
        self.ids, self.losses = [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.ids += [int(s.id) for s in data_batch['data_samples']]
        self.losses.append(float(outputs['loss']))

    def after_train(self, runner):
        with open(f'{runner.work_dir}/seen.json', 'w') as f:
            json.dump(dict(ids=self.ids, losses=self.losses), f)
'''


@pytest.mark.slow
def test_training_with_10_percent_bad_samples_sees_every_good_sample_once(tiny_coco, tmp_path):
    """tools/train.py, 1 epoch, on the tiny set plus 10% bad samples (one of each kind below): the run finishes,
    each good sample is seen exactly once (as in an epoch over the clean set), every loss is finite, and the log
    names each bad sample once."""
    root = tmp_path / 'coco'
    shutil.copytree(tiny_coco, root)
    clean_ids = sorted(ids_of(build(root)))
    data = read(root)
    template = data['annotations'][0]
    bad = [dict(template, id=8001, keypoints=_with(0, float('nan'))(template['keypoints'])),
           dict(template, id=8002, bbox=[0.0, 0.0, 0.0, 0.0]),
           dict(template, id=8003, keypoints=template['keypoints'][:-3]),
           dict(template, id=8004, keypoints=_with(2, 7)(template['keypoints'])),
           dict(template, id=8005, image_id=9005)]  # its image file is missing
    data['images'].append(dict(image_of(data, template), id=9005, file_name='missing.jpg'))
    bad = bad[:max(1, round(len(clean_ids) / 9))]  # 10% of the whole set
    data['annotations'] += bad
    write(root, data)
    (tmp_path / 'record_samples_hook.py').write_text(HOOK)
    config = tmp_path / 'config.py'
    config.write_text(f"_base_ = ['{DEMO_CONFIG}']\n"
                      "custom_imports = dict(imports=['pose_plugins', 'record_samples_hook'], "
                      "allow_failed_imports=False)\n"
                      "custom_hooks = [dict(type='RecordSamplesHook')]\n")
    work_dir = tmp_path / 'work'
    out = run_tool(['tools/train.py', str(config), '--work-dir', str(work_dir), '--cfg-options',
                    *tiny_run_options(root, max_epochs=1)],
                   env_extra={'PYTHONPATH': f'{Path(__file__).resolve().parents[2]}:{tmp_path}'})
    assert out.returncode == 0, out.stderr[-4000:]
    seen = json.loads((work_dir / 'seen.json').read_text())
    assert sorted(seen['ids']) == clean_ids  # every good sample once, no bad one, no substitute
    assert all(math.isfinite(v) for v in seen['losses']) and len(seen['losses']) == math.ceil(len(clean_ids) / 4)
    log = '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))
    for ann in bad:
        assert len(re.findall(rf'skipping annotation id {ann["id"]} of \S*{TRAIN_ANN}', log)) == 1, log[-3000:]
