"""mmpose's COCO keypoint dataset with every annotation and image checked at load time."""
from __future__ import annotations

import json
import logging
import math
import os.path as osp
from collections import Counter, defaultdict
from numbers import Real
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from mmengine.fileio import exists, get_local_path
from mmengine.logging import print_log
from mmpose.datasets.datasets.body import CocoDataset
from mmpose.structures.bbox import bbox_xywh2xyxy

from pose_plugins.registry import DATASETS

from .image_file import image_file_problem

__all__ = ['CocoKeypointDataset']

# Per-sample warnings before the rest are only counted in the summary.
_MAX_WARNINGS = 50
# Skips that are normal in COCO itself (mmpose drops them silently): one summary warning per kind, ids listed.
_ROUTINE = ('is set (a crowd region)', 'no labelled keypoint')


@DATASETS.register_module()
class CocoKeypointDataset(CocoDataset):
    """:class:`~mmpose.datasets.CocoDataset` that checks every annotation and image when it loads them.

    Differs from mmpose 1.3.2, which crashes without a hint or trains on NaN / negative-weight targets: a bad
    sample (keypoints, bbox, unknown image id, unusable image file) is skipped with a warning naming file,
    annotation id and field; routine COCO skips (crowd, no labelled keypoint) get one summary warning. The data
    list is ``CocoDataset``'s for the samples that pass; :attr:`skipped` holds ``(file, id, field, reason)``.

    Args:
        check_images (bool): Check each local image's header and end marker at load time. Defaults to True.
        **kwargs: As :class:`~mmpose.datasets.CocoDataset`.

    Raises:
        FileNotFoundError | ValueError: A missing, non-JSON or non-COCO file, duplicated ids, a bad ``bbox_file``,
            no usable sample, or an unusable image in ``test_mode``.
    """

    def __init__(self, *, check_images: bool = True, **kwargs: Any) -> None:
        self.check_images = check_images
        self.skipped: List[Tuple[str, Any, str, str]] = []
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """``CocoDataset``'s data list of the samples that pass the checks; warns per skip, raises on bad files."""
        self.skipped = []
        self._warned = 0
        self._routine: Dict[Tuple[str, str], List[Any]] = defaultdict(list)
        data_list = super().load_data_list()
        source = self.bbox_file or self.ann_file
        for (field, reason), ids in self._routine.items():
            shown = ', '.join(f'{i} (image {image})' for i, image in ids[:10])
            print_log(f'{type(self).__name__}: skipping {len(ids)} annotation(s) of {self.ann_file}: {field} '
                      f'{reason} (mmpose skips these too): annotation id {shown}'
                      + (f' ... ({len(ids)} in all)' if len(ids) > 10 else ''),
                      logger='current', level=logging.WARNING)
        if self.skipped:
            counts = Counter(f'{field}: {reason.split(" (")[0]}' for _, _, field, reason in self.skipped)
            unnamed = max(0, len(self.skipped) - sum(len(v) for v in self._routine.values()) - _MAX_WARNINGS)
            print_log(f'{type(self).__name__}: {source}: kept {len(data_list)} samples, skipped '
                      f'{len(self.skipped)}' + (f' ({unnamed} not named above; all in dataset.skipped)'
                                                if unnamed else '') + ': '
                      + '; '.join(f'{n} x {k}' for k, n in counts.most_common(5)),
                      logger='current', level=logging.WARNING if unnamed else logging.INFO)
        if not data_list:
            why = f'all {len(self.skipped)} skipped (see the warnings above)' if self.skipped else 'it is empty'
            raise ValueError(f'{type(self).__name__}: no usable sample in {source}: {why}')
        return data_list

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Checked instances and images of the annotation file, in file order."""
        images, annotations = self._read_coco(self.ann_file)
        image_ids = {img['id'] for img in images}
        by_image: Dict[Any, List[dict]] = defaultdict(list)
        for ann in annotations:
            if ann['image_id'] in image_ids:
                by_image[ann['image_id']].append(ann)
            else:
                self._skip(ann['id'], '?', 'image_id', f'{ann["image_id"]!r} has no entry in "images"')
        instance_list, image_list = [], []
        for img in images:
            if img['id'] % self.sample_interval != 0:
                continue
            img = dict(img, img_id=img['id'], img_path=osp.join(self.data_prefix['img'], img['file_name']))
            image_list.append(img)
            anns = by_image.get(img['id'], [])
            problem = self._image_problem(img) if anns else None
            for ann in anns:
                if problem is not None:
                    self._bad_image(img, problem, ann['id'])
                    continue
                info = self.parse_data_info(dict(raw_ann_info=ann, raw_img_info=img))
                if info is not None:
                    instance_list.append(info)
        return instance_list, image_list

    def _load_detection_results(self) -> List[dict]:
        """Top-down samples of the person detections in ``bbox_file`` (``test_mode``), as ``CocoDataset``'s."""
        images = {img['id']: img for img in self._read_coco(self.ann_file)[0]}
        detections = self._read_json(self.bbox_file)
        if not isinstance(detections, list) or not all(isinstance(d, dict) for d in detections):
            raise ValueError(f'{type(self).__name__}: bbox_file {self.bbox_file} must be a JSON list of detections '
                             '{"image_id", "bbox": [x, y, w, h], "score", "category_id"}, got '
                             f'{type(detections).__name__}')
        num_keypoints = self.metainfo['num_keypoints']
        problems: Dict[Any, Optional[str]] = {}
        data_list = []
        for index, det in enumerate(detections):
            for field in ('image_id', 'bbox', 'score', 'category_id'):
                if field not in det:
                    raise ValueError(f'{type(self).__name__}: bbox_file {self.bbox_file}: detection {index} has no '
                                     f'"{field}"')
            if det['category_id'] != 1:
                continue
            if det['image_id'] not in images:
                raise ValueError(f'{type(self).__name__}: bbox_file {self.bbox_file}: detection {index} has '
                                 f'image_id {det["image_id"]!r}, which {self.ann_file} has no image of (a '
                                 'detection file made for another annotation file?)')
            img = images[det['image_id']]
            img_path = osp.join(self.data_prefix['img'], img['file_name'])
            if det['image_id'] not in problems:
                problems[det['image_id']] = self._image_problem(dict(img, img_path=img_path))
            if problems[det['image_id']] is not None:
                self._bad_image(dict(img, img_path=img_path), problems[det['image_id']], f'detection {index}')
            box, score = det['bbox'], det['score']
            if not _is_number_list(box, 4) or not all(map(math.isfinite, box)) or box[2] <= 0 or box[3] <= 0:
                self._skip(f'detection {index}', img_path, 'bbox',
                           f'{box!r} is not [x, y, w, h] of finite numbers with w, h > 0', source=self.bbox_file)
                continue
            if not isinstance(score, Real) or not math.isfinite(score):
                self._skip(f'detection {index}', img_path, 'score', f'{score!r} is not a finite number',
                           source=self.bbox_file)
                continue
            data_list.append({
                'img_id': det['image_id'],
                'img_path': img_path,
                'img_shape': (img['height'], img['width']),
                'bbox': bbox_xywh2xyxy(np.array(box, dtype=np.float32).reshape(1, 4)),
                'bbox_score': np.array(score, dtype=np.float32).reshape(1),
                'keypoints': np.zeros((1, num_keypoints, 2), dtype=np.float32),
                'keypoints_visible': np.ones((1, num_keypoints), dtype=np.float32),
                'id': len(data_list),
            })
        return data_list

    def parse_data_info(self, raw_data_info: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """``CocoDataset.parse_data_info`` of an annotation that passes the checks; None (and a warning) if not."""
        ann, img = raw_data_info['raw_ann_info'], raw_data_info['raw_img_info']
        problem = self._annotation_problem(ann, img)
        if problem is None:
            data_info = super().parse_data_info(raw_data_info)
            if self._is_valid_instance(data_info):
                return data_info
            problem = ('num_keypoints', f'{ann.get("num_keypoints")!r} or keypoint coordinates all <= 0 '
                       '(mmpose\'s own filter drops it)')
        self._skip(ann['id'], img['img_path'], *problem)
        return None

    def _annotation_problem(self, ann: dict, img: dict) -> Optional[Tuple[str, str]]:
        """``(field, reason)`` of what makes an annotation unusable for training, or None."""
        if ann.get('iscrowd'):
            return 'iscrowd', 'is set (a crowd region)'
        num = self.metainfo['num_keypoints']
        keypoints = ann.get('keypoints')
        if keypoints is None:
            return 'keypoints', 'missing'
        if not _is_number_list(keypoints):
            return 'keypoints', 'not a flat list of numbers'
        if len(keypoints) != 3 * num:
            return 'keypoints', (f'has {len(keypoints)} values; the metainfo ({self.metainfo["dataset_name"]}) '
                                 f'has {num} keypoints = {3 * num} values (x, y, v each)')
        array = np.asarray(keypoints, dtype=np.float64).reshape(num, 3)
        bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
        if bad.size:
            return 'keypoints', f'NaN/inf at keypoint indices {bad.tolist()}'
        bad = np.flatnonzero(~np.isin(array[:, 2], (0, 1, 2)))
        if bad.size:
            return 'keypoints', (f'visibility flags {array[bad, 2].tolist()} at keypoint indices {bad.tolist()} '
                                 'are outside {0, 1, 2}')
        if not np.any(array[:, 2] > 0):
            return 'keypoints', 'no labelled keypoint'
        box = ann.get('bbox')
        if box is None:
            return 'bbox', 'missing'
        if not _is_number_list(box, 4) or not all(map(math.isfinite, box)):
            return 'bbox', f'{box!r} is not [x, y, w, h] of finite numbers'
        x, y, w, h = box
        if w <= 0 or h <= 0:
            return 'bbox', f'{box!r} has zero or negative size'
        width, height = img['width'], img['height']
        if min(x + w, width - 1) <= max(x, 0) or min(y + h, height - 1) <= max(y, 0):
            return 'bbox', f'{box!r} lies outside the {width}x{height} image'
        return None

    def _image_problem(self, img: dict) -> Optional[str]:
        """What makes an image file unusable (:func:`image_file_problem`), or None; no check for remote paths."""
        if not self.check_images or '://' in img['img_path']:
            return None
        return image_file_problem(img['img_path'], (img['width'], img['height']))

    def _bad_image(self, img: dict, problem: str, sample: Any) -> None:
        """Skip a sample of an unusable image; in ``test_mode`` stop instead (a metric without it would lie)."""
        if self.test_mode:
            raise ValueError(f'{type(self).__name__}: image {img["img_path"]} (image id {img["id"]} of '
                             f'{self.ann_file}): {problem}; evaluation needs every image of the set')
        self._skip(sample, img['img_path'], 'file_name', problem)

    def _skip(self, sample: Any, image: str, field: str, reason: str, *, source: Optional[str] = None) -> None:
        """Record a skipped sample and warn (routine COCO skips are listed once, in the closing summary)."""
        source = source or self.ann_file
        self.skipped.append((source, sample, field, reason))
        if reason in _ROUTINE:
            self._routine[field, reason].append((sample, image))
            return
        self._warned += 1
        if self._warned <= _MAX_WARNINGS:
            what = sample if isinstance(sample, str) else f'annotation id {sample}'
            print_log(f'{type(self).__name__}: skipping {what} of {source} (image {image}): {field} {reason}',
                      logger='current', level=logging.WARNING)

    def _read_json(self, path: str) -> Any:
        if not exists(path):
            raise FileNotFoundError(f'{type(self).__name__}: {path} does not exist')
        with get_local_path(path) as local_path, open(local_path, 'rb') as f:
            try:
                return json.load(f)
            except (ValueError, UnicodeDecodeError) as err:
                raise ValueError(f'{type(self).__name__}: {path} is not a JSON file ({err})') from err

    def _read_coco(self, path: str) -> Tuple[List[dict], List[dict]]:
        """``images`` and ``annotations`` of a COCO-shaped file (and the categories into the metainfo)."""
        data = self._read_json(path)
        name = type(self).__name__
        if not isinstance(data, dict):
            raise ValueError(f'{name}: {path} is not a COCO annotation file: its top level is a '
                             f'{type(data).__name__}, not an object with "images" and "annotations"')
        required = {'images': ('id', 'file_name', 'width', 'height'),
                    'annotations': ('id', 'image_id')}
        for key, fields in required.items():
            entries = data.get(key)
            if not isinstance(entries, list):
                raise ValueError(f'{name}: {path} is not a COCO annotation file: "{key}" is '
                                 f'{"missing" if entries is None else "not a list"}')
            for index, entry in enumerate(entries):
                missing = [f for f in fields if not isinstance(entry, dict) or f not in entry]
                if missing:
                    raise ValueError(f'{name}: {path}: {key}[{index}] has no "{missing[0]}" (every entry of '
                                     f'"{key}" needs {", ".join(fields)})')
            counts = Counter(entry['id'] for entry in entries)
            repeated = [i for i, n in counts.items() if n > 1]
            if repeated:
                raise ValueError(f'{name}: {path}: duplicated "id" in "{key}": {repeated[:10]} (ids must be unique: '
                                 'evaluation and results are keyed by them)')
        if isinstance(data.get('categories'), list):
            self._metainfo['CLASSES'] = list(data['categories'])  # as CocoDataset: the file's order
        return data['images'], data['annotations']


def _is_number_list(value: Any, length: Optional[int] = None) -> bool:
    return isinstance(value, (list, tuple)) and (length is None or len(value) == length) and all(
        isinstance(v, Real) and not isinstance(v, bool) for v in value)
