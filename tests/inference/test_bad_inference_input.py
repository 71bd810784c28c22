"""Malformed input to inference: ``pose_plugins.inference.run_inference`` (mmpose's MMPoseInferencer with our
GivenBoxesDetector) and tools/infer.py, each case with its expected behaviour beside it.

Each either runs (a case where that is right) or stops before any model is built with an error naming the input
and what is wrong; none reaches mmpose's whole-image fallback or a bare OpenCV assertion.
"""
import json
import re

import pytest

from conftest import DEMO_CONFIG
from pose_plugins.inference import GivenBoxesDetector, run_inference


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    """Two synthetic val images (256x256) in a folder, and the folder."""
    from pose_plugins.synthetic import make_synthetic_coco
    root = tmp_path_factory.mktemp('infer_data')
    make_synthetic_coco(str(root), num_train_images=1, num_val_images=2, seed=3)
    return sorted((root / 'val2017').glob('*.jpg'))


def infer(inputs, out_dir, boxes=None):
    """All results of run_inference on the demo config with its initial weights (no checkpoint needed here)."""
    return list(run_inference(str(DEMO_CONFIG), None, str(inputs), str(out_dir), boxes=boxes))


BOX_CASES = {
    # case: (boxes for the image, error regex)               expected: ValueError naming the image, before any work
    'boxes of shape (1, 3)': ([[10, 20, 110]], r'must be \[x1, y1, x2, y2\(, score\)\] .* got shape \(1, 3\)'),
    'boxes of shape (1, 6)': ([[10, 20, 110, 220, 0.9, 1]], r'got shape \(1, 6\)'),
    'one box not wrapped in a list': ([10, 20, 110, 220], r'got shape \(4,\) \(one box is still a list of boxes'),
    'boxes of shape (1, 2, 4)': ([[[10, 20, 110, 220]] * 2], r'got shape \(1, 2, 4\)'),
    'box with NaN': ([[10, float('nan'), 110, 220]], r'must be finite numbers'),
    'box with x2 < x1': ([[110, 20, 10, 220]], r'need x2 > x1 and y2 > y1'),
    'box that is not numbers': ([['a', 'b', 'c', 'd']], r'must be a list of \[x1, y1, x2, y2\(, score\)\] numbers'),
    'ragged boxes': ([[10, 20, 110, 220], [1, 2]], r'must be a list of \[x1, y1, x2, y2\(, score\)\] numbers'),
}


@pytest.mark.parametrize('case', BOX_CASES)
def test_boxes_of_the_wrong_shape_or_value_stop_naming_the_image(case, images, tmp_path):
    boxes, message = BOX_CASES[case]
    with pytest.raises(ValueError, match=message) as err:
        infer(images[0], tmp_path, {str(images[0]): boxes})
    assert str(images[0]) in str(err.value)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # stopped before writing anything


def test_path_that_does_not_exist_stops_naming_it(tmp_path):
    """Expected: FileNotFoundError naming the path."""
    with pytest.raises(FileNotFoundError, match=rf'{tmp_path}/nope.jpg is neither an image file nor a folder'):
        infer(tmp_path / 'nope.jpg', tmp_path / 'out')


def test_folder_without_images_stops_naming_it(tmp_path):
    """Expected: FileNotFoundError naming the folder and the suffixes looked for."""
    with pytest.raises(FileNotFoundError, match=rf'no images \(.jpg, .*\) in folder {tmp_path}'):
        infer(tmp_path, tmp_path / 'out')


def test_image_without_an_entry_in_the_boxes_stops_naming_it(images, tmp_path):
    """Expected: KeyError naming the image (a box file for other images), before any work."""
    with pytest.raises(KeyError, match=rf'no boxes given for image {images[1]}'):
        infer(images[0].parent, tmp_path, {images[0].name: [[10, 20, 110, 220]]})


@pytest.mark.parametrize('case,content,message', [
    # case, file content, error regex                       expected: ValueError naming the file (mmpose: a bare
    ('zero-byte image', b'', r'empty \(0 bytes\)'),           # OpenCV "!buf.empty()" assertion, no file name)
    ('truncated image', None, r'truncated'),                  # mmpose: 'NoneType' object has no attribute 'shape'
    ('not an image', b'GIF-ish nonsense', r'not a readable image'),
])
def test_unreadable_image_stops_naming_it(case, content, message, images, tmp_path):
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(images[0].read_bytes()[:2000] if content is None else content)
    for boxes in (None, {bad.name: [[10, 20, 110, 220]]}):  # whole-image and given-box paths
        with pytest.raises(ValueError, match=rf'input image {bad}: .*{message}'):
            infer(bad, tmp_path / 'out', boxes)


def test_no_boxes_means_no_people(images, tmp_path):
    """Expected: an image given an empty list of boxes gets no people, an empty predictions file and a warning
    (mmpose 1.3.2 would predict one person filling the image); the other image is predicted as usual."""
    out_dir = tmp_path / 'out'
    results = infer(images[0].parent, out_dir, {images[0].name: [], images[1].name: [[20, 30, 120, 230]]})
    assert [len(r['people']) for r in results] == [0, 1]
    assert json.loads((out_dir / 'predictions' / f'{images[0].stem}.json').read_text()) == []
    assert len(json.loads((out_dir / 'predictions' / f'{images[1].stem}.json').read_text())) == 1
    assert not (out_dir / 'visualizations' / images[0].name).exists()


def test_given_boxes_detector_rejects_what_is_not_a_mapping():
    """Expected: ValueError saying what the boxes must be (a list instead of image -> boxes)."""
    with pytest.raises(ValueError, match=r'boxes must map image path .* got a list'):
        GivenBoxesDetector([[10, 20, 110, 220]])


# ------------------------------------------------------------------------------------------------------------------
# tools/infer.py: command-line mistakes end with one line naming the flag (exit status 2)
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('case,flags,message', [
    ('--bboxes that is not JSON', ['--bboxes', '[[10, 20, 110, 220]'], r'--bboxes is not JSON'),
    ('--bbox-file that does not exist', ['--bbox-file', 'BOXES/none.json'], r'--bbox-file \S*none.json does not exist'),
    ('--bbox-file that is a list', ['--bbox-file', 'LIST'], r'--bbox-file \S*boxes.json must hold a JSON object'),
    ('--bbox-file that is not JSON', ['--bbox-file', 'TEXT'], r'--bbox-file \S*boxes.txt is not JSON'),
])
def test_infer_tool_rejects_bad_box_flags(case, flags, message, images, tmp_path, capsys):
    (tmp_path / 'boxes.json').write_text('[[10, 20, 110, 220]]')
    (tmp_path / 'boxes.txt').write_text('x1 y1 x2 y2')
    flags = [f.replace('BOXES', str(tmp_path)).replace('LIST', str(tmp_path / 'boxes.json'))
             .replace('TEXT', str(tmp_path / 'boxes.txt')) for f in flags]
    from pose_plugins.apis.infer import main
    with pytest.raises(SystemExit) as exit_info:
        main([str(DEMO_CONFIG), 'none.pth', str(images[0]), '--out-dir', str(tmp_path / 'out'), *flags])
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)

