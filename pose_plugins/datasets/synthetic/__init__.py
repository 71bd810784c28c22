"""Synthetic COCO-format people: deterministic images + ``person_keypoints_*.json`` without any download.

No dataset can be downloaded where pose_plugins is developed and tested, so tests, the CPU demo and the
benchmarks train and evaluate on people rendered here. The output is real COCO person-keypoints data laid out
as mmpose expects under ``data/coco``, so mmpose's own ``CocoDataset``, pipelines and ``CocoMetric`` (OKS AP
through xtcocotools) are used end to end; a config only changes ``data_root``::

    OUT/annotations/person_keypoints_train2017.json
    OUT/annotations/person_keypoints_val2017.json
    OUT/train2017/000000000001.jpg ...
    OUT/val2017/000000000001.jpg ...
    OUT/person_detection_results/val_gt_boxes.json   # "detector" boxes = GT boxes, score 1.0

What is drawn (one image, ``numpy`` + ``cv2`` only):

* a textured background: a two-colour linear gradient, low-frequency colour noise and random lines,
  rectangles and circles;
* 1-3 people (``people_per_image``), each a parametric skeleton of the 17 COCO keypoints: random limb angles,
  torso lean, head tilt/yaw, body width (``aspect_range``), limb foreshortening, height in pixels
  (``person_height``) and in-plane rotation (``rotation_range``). Limbs are thick strokes in random clothing
  colours, the torso a filled polygon, the head a skin-coloured disc with eyes and nose drawn on it;
  smaller (farther) people are drawn first, so nearer ones occlude them;
* a marker disc on every joint, coloured by joint *type* (all wrists one colour, all knees another, ...);
* random occluders (textured rectangles/ellipses) over part of a person (``occlusion_prob``);
* people placed partly outside the image (``truncation_prob``);
* Gaussian pixel noise, then a JPEG at a fixed quality.

Left and right: by default everyone faces the camera, so the person's left side is on the image's right in
the person's upright frame (the head gives "up"). This is the only left/right cue, and it is the one cue that
survives mmpose's ``RandomFlip`` and flip test: mirroring the image and swapping the left/right labels (COCO
``flip_indices``) yields again a camera-facing person with the same rule. Marker colours are therefore the same
for the left and the right joint of a pair. Colouring the sides differently (``side_colours=True``) makes
left/right trivial to see, but then a flipped image teaches "red disc = right wrist" while the unflipped one
teaches "red disc = left wrist": use it only without flip augmentation and flip test.
``back_facing_prob`` adds people seen from behind (mirrored skeleton, no face drawn, nose and eyes labelled
as occluded, as in COCO).

Labels follow COCO: visibility 2 = the joint's pixel shows this person; 1 = inside the image but covered by an
occluder or by a nearer person (or a hidden face point of a back-facing person); 0 = outside the image, stored
as ``x = y = 0``. ``num_keypoints`` counts the labels > 0. ``bbox`` is the tight box of the person's whole
(amodal) silhouette clipped to the image, enlarged if needed to hold every labelled keypoint; ``segmentation``
holds polygons of the *visible* silhouette and ``area`` its pixel count (COCO's definition, used by OKS).

Degenerate annotations: ``num_degenerate_annotations=n`` appends ``n`` annotations per split, cycling over
:data:`DEGENERATE_KINDS` and over the split's images: ``'zero_area'`` (``bbox`` ``[x, y, 0, 0]``, no keypoints)
and ``'no_keypoints'`` (a normal box, all 17 keypoints ``0, 0, 0``, ``num_keypoints`` 0). Both are valid COCO
(COCOeval ignores them since ``num_keypoints == 0``) and mmpose's top-down loader must skip them; they use
their own random stream, so the images and the other annotations do not change when they are switched on.
They never enter the detector-box file, and a split without images gets none.

Determinism: image ``i`` of a split is drawn from ``numpy.random.default_rng(SeedSequence(seed, spawn_key=
(split, i)))``, so the same seed gives byte-identical JSON and identical JPEGs, and the first ``n`` images do not
depend on how many are generated.

Difficulty knobs (all in :class:`SyntheticCocoConfig`): easier data has fewer people, a narrower
``person_height`` range, smaller ``rotation_range``/``limb_angle_scale``/``foreshortening``, no occlusion or
truncation and larger ``marker_radius``; harder data the opposite, ``marker_radius=0`` (no joint markers),
``back_facing_prob > 0`` and more ``background_shapes``.

3D people (``with_3d=True``): the same 2D skeletons, lifted to camera coordinates in millimetres (X right,
Y down, Z forward from the camera) for a pinhole camera with square pixels, focal length
``f = focal_length * image width`` pixels and the principal point at the image centre ``c = (W / 2, H / 2)``:

* every image entry gets ``camera_param = {"f": [fx, fy], "c": [cx, cy]}`` (pixels);
* every annotation gets ``keypoints_3d``, a flat list of K * 3 floats ``X, Y, Z`` (mm, 4 decimals) for *all*
  17 keypoints whatever their visibility (degenerate annotations get zeros, like their 2D keypoints);
* depth: a person's unit of height (``person_height`` pixels) is ``person_height_mm`` real millimetres, which
  puts the root, the mean of the hips (keypoints 11 and 12, :data:`ROOT_INDICES`), at
  ``Z_root = f * height_mm / height_px``. Each joint gets a root-relative depth ``z_j`` from a plausible 3D
  pose: a limb segment that ``foreshortening`` drew ``l`` long out of ``L`` leaves the image plane by
  ``L * sqrt(1 - (l / L)^2)`` towards or away from the camera (random sign); shoulders and hips get a small body
  twist about the vertical axis, the upper body a small lean towards or away from the camera; nose and eyes
  lie on the front of the head sphere, the ears a little behind its centre; people seen from behind have
  their depths mirrored. ``|z_j| <= MAX_ROOT_DEPTH_MM`` (900 mm; a person's depths are scaled down in the rare
  case, only with extreme ``foreshortening``, that they exceed it), and ``Z_j = Z_root + z_j``;
* the 2D labels are untouched: ``X_j = (u_j - cx) Z_j / fx``, ``Y_j = (v_j - cy) Z_j / fy`` from the unrounded
  image position, so ``fx X / Z + cx`` gives back the stored ``u`` to its 2-decimal rounding (for unlabelled
  keypoints, stored as ``0, 0``, the position outside the image they had);
* the depth cue, a synthetic convenience that makes depth learnable from one picture: the joint-marker discs
  keep their joint-type colour and are drawn with radius ``marker_radius * height_px * Z_root / Z_j``
  (perspective: nearer joints, larger discs), and each gets a grey centre dot (``_DEPTH_DOT`` of its radius)
  whose grey level encodes the root-relative depth, the same for every joint type:
  ``127.5 * (1 + depth_shading * tanh(-z_j / 300 mm))``, white-ish nearer than the root, black-ish farther
  (mid-grey at the root; 172 / 83 at -/+150 mm with the default 0.8); markers are drawn farther first, so
  nearer ones cover farther ones, and people farther (larger ``Z_root``) first. Real photographs have no such
  cue. (A first version shaded the whole disc relative to its type colour; a small CPU model did not learn to
  read that relative cue within the demo's schedule, while it learns an absolute one.)

The 3D draws come from the same per-image generator but only when ``with_3d=True``, and the 3D knobs are
recorded in the files' ``info.config`` only then, so the default output is byte-identical to the 2D-only
generator's.

Package layout, one concern per module: :mod:`.config` (:class:`SyntheticCocoConfig`), :mod:`.coco_format` (COCO
constants), :mod:`.body_model` (rest skeleton and limb tables), :mod:`.geometry` (rotations, image bounds, box IoU,
pinhole camera), :mod:`.people2d` (pose sampling and placement), :mod:`.people3d` (depths, ``with_3d``),
:mod:`.drawing` (cv2 rendering), :mod:`.annotations` (COCO fields of a person), :mod:`.render` (one image) and
:mod:`.coco_writer` (:func:`make_synthetic_coco`).
"""
from .body_model import MAX_ROOT_DEPTH_MM, ROOT_INDICES
from .coco_format import (COCO_FLIP_INDICES, COCO_KEYPOINT_NAMES, COCO_PERSON_CATEGORY, COCO_SKELETON, DEGENERATE_KINDS,
                          NUM_KEYPOINTS, SPLITS)
from .coco_writer import make_synthetic_coco
from .config import SyntheticCocoConfig
from .mesh_writer import SyntheticMeshConfig, make_synthetic_mesh_coco  # noqa: F401  (mesh people)
from .render import render_synthetic_image

__all__ = [
    'SyntheticCocoConfig', 'make_synthetic_coco', 'render_synthetic_image', 'COCO_KEYPOINT_NAMES',
    'COCO_SKELETON', 'COCO_FLIP_INDICES', 'COCO_PERSON_CATEGORY', 'DEGENERATE_KINDS', 'SPLITS',
    'MAX_ROOT_DEPTH_MM', 'ROOT_INDICES', 'NUM_KEYPOINTS'
]
