"""Synthetic COCO-format people for tests and demos: deterministic images and ``person_keypoints_*.json``,
in mmpose's ``data/coco`` layout (a config changes only ``data_root``)::

    OUT/annotations/person_keypoints_{train,val}2017.json
    OUT/{train,val}2017/000000000001.jpg ...
    OUT/person_detection_results/val_gt_boxes.json   # "detector" boxes = GT boxes, score 1.0

- Images: textured background; 1-3 parametric skeletons of the 17 COCO keypoints, farther ones drawn first; a
  marker per joint coloured by joint type, left and right alike so that flipping stays consistent; occluders,
  truncation, noise, JPEG. ``back_facing_prob``: people seen from behind (face points labelled occluded).
- Labels: visibility 2 visible, 1 covered, 0 outside the image (``x = y = 0``); ``bbox`` of the amodal silhouette
  and every labelled keypoint; ``segmentation`` / ``area`` of the visible silhouette. ``num_degenerate_annotations``
  adds :data:`DEGENERATE_KINDS` annotations (``num_keypoints == 0``) for mmpose's loader to skip.
- Image ``i`` of a split is drawn from ``default_rng(SeedSequence(seed, spawn_key=(split, i)))``.
- ``with_3d=True``: ``camera_param`` (``f = focal_length * W``, centre ``(W / 2, H / 2)``) and ``keypoints_3d``
  (K * 3, camera frame, mm; root = mean of the hips, ``|z| = |Z - Z_root| <= MAX_ROOT_DEPTH_MM``). Synthetic depth
  cue: marker radius times ``Z_root / Z``, grey centre dot ``127.5 * (1 + depth_shading * tanh(-z / 300 mm))``.
- Clips (:func:`make_synthetic_clip`): people walking, turning, crossing, drawn the same way; GT tracks beside.
- Mesh people with their body model's parameters (``body_model``: the synthetic SMPL-format mannequin, NOT SMPL,
  :mod:`.synthetic_smpl`; or Anny): :mod:`.people_mesh`, their priors by joint names :mod:`.body_priors`.
"""
from .body_model import MAX_ROOT_DEPTH_MM, ROOT_INDICES
from .body_priors import BODY_PRIORS, BodyPrior
from .clips import SyntheticClipConfig, make_synthetic_clip
from .coco_format import (COCO_FLIP_INDICES, COCO_KEYPOINT_NAMES, COCO_PERSON_CATEGORY, COCO_SKELETON, DEGENERATE_KINDS,
                          NUM_KEYPOINTS, SPLITS)
from .coco_writer import make_synthetic_coco
from .config import SyntheticCocoConfig
from .mesh_body import MeshBody, cached_mesh_body
from .mesh_writer import SyntheticMeshConfig, make_synthetic_mesh_coco
from .people_mesh import mean_body_parameters, render_mesh_image
from .render import render_synthetic_image
from .synthetic_smpl import SyntheticSMPL, make_synthetic_smpl, write_synthetic_smpl

__all__ = [
    'SyntheticCocoConfig', 'make_synthetic_coco', 'render_synthetic_image', 'COCO_KEYPOINT_NAMES',
    'COCO_SKELETON', 'COCO_FLIP_INDICES', 'COCO_PERSON_CATEGORY', 'DEGENERATE_KINDS', 'SPLITS',
    'MAX_ROOT_DEPTH_MM', 'ROOT_INDICES', 'NUM_KEYPOINTS', 'SyntheticMeshConfig', 'make_synthetic_mesh_coco',
    'SyntheticSMPL', 'make_synthetic_smpl', 'write_synthetic_smpl', 'SyntheticClipConfig', 'make_synthetic_clip',
    'BodyPrior', 'BODY_PRIORS', 'MeshBody', 'cached_mesh_body', 'render_mesh_image', 'mean_body_parameters'
]
