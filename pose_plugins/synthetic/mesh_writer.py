"""Writing a synthetic COCO mesh data set: images and ``person_keypoints_*.json`` with body-model fields per person."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Dict, Optional, Union

import cv2
import numpy as np

from .coco_format import COCO_PERSON_CATEGORY, SPLITS
from .coco_writer import _image_rng, _write_json
from .geometry import pinhole_camera
from .people_mesh import SyntheticMeshConfig, mean_body_parameters, render_mesh_image

__all__ = ['SyntheticMeshConfig', 'make_synthetic_mesh_coco']


def make_synthetic_mesh_coco(out_dir: Union[str, Path], *, num_train_images: int, num_val_images: int, seed: int,
                             config: Optional[SyntheticMeshConfig] = None) -> Dict[str, str]:
    """Write synthetic mesh people (:mod:`.people_mesh`) under ``out_dir``: arguments (``config`` a
    :class:`SyntheticMeshConfig`), layout, seeding and returned paths as :func:`~.coco_writer.make_synthetic_coco`,
    plus ``mean_params``: ``body_mean_params.npz``, the train split's mean body parameters in SPIN's mean-parameter
    format (:func:`~.people_mesh.mean_body_parameters`), written when there are training images. The files' info
    names the body model (``body_model``: the annotations' name, ``description``) and the config.
    """
    cfg = SyntheticMeshConfig() if config is None else config
    counts = dict(num_train_images=num_train_images, num_val_images=num_val_images, seed=seed)
    for name, value in counts.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f'make_synthetic_mesh_coco: {name} must be a non-negative int, got {value!r}')
    root = Path(out_dir).resolve()
    for sub in ('annotations', 'person_detection_results'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    width, height = cfg.coco.image_size
    focal, centre = pinhole_camera(cfg.coco)
    camera = dict(f=focal.tolist(), c=centre.tolist())
    paths = dict(data_root=str(root), val_bbox_file=str(root / 'person_detection_results' / 'val_gt_boxes.json'))
    info_config = dataclasses.asdict(cfg)
    prior = cfg.mesh_body.prior
    for split_index, (split, count) in enumerate(zip(SPLITS, (num_train_images, num_val_images))):
        image_dir = root / f'{split}2017'
        image_dir.mkdir(exist_ok=True)
        images, annotations = [], []
        for index in range(int(count)):
            image, people = render_mesh_image(_image_rng(int(seed), split_index, index), cfg)
            image_id = index + 1
            name = f'{image_id:012d}.jpg'
            if not cv2.imwrite(str(image_dir / name), image, [cv2.IMWRITE_JPEG_QUALITY, cfg.coco.jpeg_quality]):
                raise OSError(f'make_synthetic_mesh_coco: could not write {image_dir / name}')
            images.append(dict(id=image_id, file_name=name, width=width, height=height, camera_param=camera))
            annotations += [dict(id=len(annotations) + 1 + i, image_id=image_id, category_id=1, **person)
                            for i, person in enumerate(people)]
        ann_file = root / f'annotations/person_keypoints_{split}2017.json'
        info = dict(description=f'pose_plugins synthetic mesh people (pose_plugins.synthetic.people_mesh); the '
                                f'body model is {prior.description}',
                    body_model=prior.annotation_name, split=split, seed=int(seed), config=info_config)
        _write_json(ann_file, dict(info=info, licenses=[], images=images, annotations=annotations,
                                   categories=[COCO_PERSON_CATEGORY]))
        paths.update({f'{split}_ann_file': str(ann_file), f'{split}_img_dir': str(image_dir)})
        if split == 'train' and annotations:
            mean = mean_body_parameters(np.array([a['body_pose'] for a in annotations]),
                                        np.array([a['body_shape'] for a in annotations]))
            paths['mean_params'] = str(root / 'body_mean_params.npz')
            np.savez(paths['mean_params'], **mean)
        if split == 'val':
            _write_json(Path(paths['val_bbox_file']), [dict(bbox=a['bbox'], category_id=1, image_id=a['image_id'],
                                                            score=1.0) for a in annotations])
    return paths
