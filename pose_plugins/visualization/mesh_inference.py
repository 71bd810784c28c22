"""Mesh recovery on an image with given person boxes: predictions as JSON, the meshes drawn over the image, and
optionally one ``.obj`` per person (what ``tools/demo.py`` and ``tools/infer.py`` do for a mesh config)."""
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import cv2
import numpy as np

from .mesh_drawing import draw_meshes, project_to_image, shade_faces, write_obj

__all__ = ['infer_meshes']


def infer_meshes(model: Any, image_path: str, boxes: Sequence[Sequence[float]], out_dir: str, *,
                 obj_dir: Optional[str] = None) -> List[Dict[str, Any]]:
    """Recover a mesh per box with mmpose's ``inference_topdown`` and draw them over the image.

    The meshes are drawn with :func:`~.mesh_drawing.draw_meshes` in one z-buffer (people ordered by their
    recovered depth, :func:`~.mesh_drawing.project_to_image`), shaded, at 70 % opacity over the image.

    Args:
        model: A top-down model with :class:`~pose_plugins.models.heads.SMPLRegressionHead` (``init_model``'s).
        image_path (str): The image.
        boxes (Sequence): (M, 4) person boxes ``x1, y1, x2, y2`` in pixels.
        out_dir (str): Gets ``predictions.json`` (per person: box, 17 keypoints in pixels, SMPL pose (72,
            axis-angle) and betas, camera) and ``<image name>`` with the drawing; existing files are not
            overwritten (an error).
        obj_dir (str, optional): Gets ``<image stem>_<person>.obj`` per person (vertices in metres, the head's
            frame).

    Returns:
        list[dict]: The people written to ``predictions.json``.
    """
    from mmpose.apis import inference_topdown
    head = model.head
    samples = inference_topdown(model, image_path, bboxes=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
                                bbox_format='xyxy') if len(boxes) else []
    image = cv2.imread(image_path)
    if image is None:
        raise ValueError(f'infer_meshes: cannot read image {image_path}')
    faces = head.body_model.faces
    meshes, shades, people = [], [], []
    for box, sample in zip(boxes, samples):
        pred, meta = sample.pred_instances, sample.metainfo
        vertices = pred.vertices[0]
        meshes.append(project_to_image(vertices, pred.camera_translation[0], focal_length=head.focal_length,
                                       input_size=meta['input_size'], input_center=meta['input_center'],
                                       input_scale=meta['input_scale']))
        shades.append(shade_faces(vertices + pred.camera_translation[0], faces))
        people.append(dict(bbox=[float(v) for v in box], keypoints=np.round(pred.keypoints[0], 2).tolist(),
                           smpl_pose=np.round(pred.smpl_pose[0], 5).tolist(),
                           smpl_betas=np.round(pred.smpl_betas[0], 5).tolist(),
                           camera=np.round(pred.camera[0], 5).tolist()))
    drawing, _, _ = draw_meshes(image, meshes, faces, shades=shades, alpha=0.7)
    os.makedirs(out_dir, exist_ok=True)
    name = osp.basename(image_path)
    if not cv2.imwrite(_new_path(osp.join(out_dir, name)), drawing):
        raise OSError(f'infer_meshes: could not write {osp.join(out_dir, name)}')
    with open(_new_path(osp.join(out_dir, osp.splitext(name)[0] + '_predictions.json')), 'x') as f:
        json.dump(dict(image=image_path, people=people), f)
    if obj_dir is not None:
        os.makedirs(obj_dir, exist_ok=True)
        for index, sample in enumerate(samples):
            write_obj(osp.join(obj_dir, f'{osp.splitext(name)[0]}_{index}.obj'), sample.pred_instances.vertices[0],
                      faces)
    return people


def _new_path(path: str) -> str:
    """``path``, which must not exist yet (results are never overwritten)."""
    if osp.exists(path):
        raise FileExistsError(f'infer_meshes: {path} exists; choose another output folder')
    return path
