"""Writing a synthetic COCO person-keypoints data set: images, annotation files and detector boxes per split."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Dict, List, Optional, Union

import cv2
import numpy as np

from .annotations import degenerate_annotation
from .coco_format import COCO_PERSON_CATEGORY, DEGENERATE_KINDS, SPLITS
from .config import FIELDS_3D, SyntheticCocoConfig
from .geometry import pinhole_camera
from .render import render_synthetic_image

__all__ = ['make_synthetic_coco']


def _image_rng(seed: int, split_index: int, image_index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(split_index, image_index)))


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, separators=(',', ':')))


def _config_record(cfg: SyntheticCocoConfig) -> Dict:
    """The config as written to ``info.config``: the 3D knobs only with ``with_3d``."""
    record = dataclasses.asdict(cfg)
    if not cfg.with_3d:
        for name in FIELDS_3D:
            del record[name]
    return record


def make_synthetic_coco(out_dir: Union[str, Path], *, num_train_images: int, num_val_images: int, seed: int,
                        config: Optional[SyntheticCocoConfig] = None) -> Dict[str, str]:
    """Write a synthetic COCO person-keypoints dataset under ``out_dir`` (layout: package docstring), overwriting.

    Args:
        out_dir (str | Path): Dataset root, used as ``data_root`` in an mmpose COCO config.
        num_train_images (int): Images in ``train2017``.
        num_val_images (int): Images in ``val2017``.
        seed (int): Non-negative seed; the same seed and config give byte-identical files.
        config (SyntheticCocoConfig, optional): Generation options; defaults to ``SyntheticCocoConfig()``.

    Returns:
        dict[str, str]: Absolute paths ``data_root``, ``train_ann_file``, ``val_ann_file``, ``train_img_dir``,
        ``val_img_dir`` and ``val_bbox_file``.
    """
    cfg = SyntheticCocoConfig() if config is None else config
    for name, value in (('num_train_images', num_train_images), ('num_val_images', num_val_images),
                        ('seed', seed)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f'make_synthetic_coco: {name} must be a non-negative int, got {value!r}')
    root = Path(out_dir).resolve()
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    (root / 'person_detection_results').mkdir(parents=True, exist_ok=True)
    width, height = cfg.image_size
    focal, centre = pinhole_camera(cfg)
    camera = dict(camera_param=dict(f=focal.tolist(), c=centre.tolist())) if cfg.with_3d else {}
    bbox_file = root / 'person_detection_results' / 'val_gt_boxes.json'
    paths = dict(data_root=str(root), val_bbox_file=str(bbox_file))

    for split_index, (split, count) in enumerate(zip(SPLITS, (num_train_images, num_val_images))):
        image_dir = root / f'{split}2017'
        image_dir.mkdir(exist_ok=True)
        images: List[Dict] = []
        annotations: List[Dict] = []
        for index in range(int(count)):
            image, people = render_synthetic_image(_image_rng(int(seed), split_index, index), cfg)
            image_id = index + 1
            file_name = f'{image_id:012d}.jpg'
            if not cv2.imwrite(str(image_dir / file_name), image, [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality]):
                raise OSError(f'make_synthetic_coco: could not write {image_dir / file_name}')
            images.append(dict(id=image_id, file_name=file_name, width=width, height=height, **camera))
            first_id = len(annotations) + 1
            annotations.extend(dict(id=first_id + i, image_id=image_id, category_id=1, **person)
                               for i, person in enumerate(people))
        if count and cfg.num_degenerate_annotations:
            rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(len(SPLITS) + split_index,)))
            for j in range(cfg.num_degenerate_annotations):
                fields = degenerate_annotation(DEGENERATE_KINDS[j % len(DEGENERATE_KINDS)], rng, cfg)
                annotations.append(dict(id=len(annotations) + 1, image_id=images[j % len(images)]['id'],
                                        category_id=1, **fields))
        ann_file = f'annotations/person_keypoints_{split}2017.json'
        info = dict(description='pose_plugins synthetic people (pose_plugins.synthetic)', split=split,
                    seed=int(seed), config=_config_record(cfg))
        _write_json(root / ann_file, dict(info=info, licenses=[], images=images, annotations=annotations,
                                          categories=[COCO_PERSON_CATEGORY]))
        paths[f'{split}_ann_file'] = str(root / ann_file)
        paths[f'{split}_img_dir'] = str(image_dir)
        if split == 'val':
            boxes = [dict(bbox=a['bbox'], category_id=1, image_id=a['image_id'], score=1.0) for a in annotations
                     if a['num_keypoints'] > 0 and a['bbox'][2] > 0 and a['bbox'][3] > 0]
            _write_json(bbox_file, boxes)
    return paths
