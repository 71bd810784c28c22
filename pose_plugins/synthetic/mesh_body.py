"""A body model as the synthetic mesh people use it (:class:`MeshBody`): the model, its prior, and per-vertex
tables of its rest mesh (body part, face, joint pads), built once per process by :func:`cached_mesh_body`.

Note:
    V: vertices; J: the body model's posed joints; K: COCO's 17 keypoints.
"""
from __future__ import annotations

import functools
from typing import Callable, Dict, Optional

import numpy as np
import torch

from pose_plugins.body_models import AnnyBody, BodyModel
from .body_priors import BODY_PRIORS, BodyPrior
from .drawing import KEYPOINT_JOINT_TYPES
from .synthetic_smpl import SyntheticSMPL

__all__ = ['MeshBody', 'cached_mesh_body', 'BODY_MODEL_NAMES', 'EYE_TYPE']

#: The ``body_model`` names of :class:`~.people_mesh.SyntheticMeshConfig`.
BODY_MODEL_NAMES = tuple(BODY_PRIORS)
#: ``MeshBody.pad_types`` of an eye vertex.
EYE_TYPE = -2
_PAD_RADIUS_M, _EYE_RADIUS_M = 0.08, 0.018
# A pad around a keypoint deep inside the body (Anny's hips, 7.4 cm under the skin) still shows a disc this wide.
_PAD_DISC_M = 0.055
_FACE_KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear')
_UP, _TOWARDS_CAMERA = np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, -1.0])  # in the camera frame


#: How each ``body_model`` name builds its body model from the mannequin's seed (Anny has no seed).
_BUILDERS: Dict[str, Callable[[int], BodyModel]] = {
    'synthetic_smpl': lambda seed: SyntheticSMPL(seed=seed), 'anny': lambda seed: AnnyBody(posed_bones='body')}


class MeshBody:
    """A body model, its :class:`~.body_priors.BodyPrior` and its rest mesh's per-vertex tables.

    Args:
        body (BodyModel): The body model (eval mode; posed on the CPU in float32).
        prior (BodyPrior): Its prior; checked against the body's joint and shape names.

    Attributes:
        part (np.ndarray): (V,) int, each vertex's joint: the largest of its skinning weights over the posed
            joints (:meth:`~pose_plugins.body_models.BodyModel.joint_weights`).
        front_of_head (np.ndarray): (V,) bool, the head's vertices in front of the head's mean (the face).
        hair (np.ndarray): (V,) bool, the other vertices of the head above the prior's ``hairline_m``.
        pad_types (np.ndarray): (V,) int, read-only: the joint type (``JOINT_TYPE_COLOURS`` index) of the vertices
            within 8 cm of a body keypoint of the rest mesh, or within ``hypot(depth, 5.5 cm)`` of a keypoint
            ``depth`` under the skin (the first keypoint in COCO's order wins),
            :data:`EYE_TYPE` within 1.8 cm of an eye keypoint, -1 elsewhere.
        up (np.ndarray): (3,) the model frame's up axis (``upright`` maps it to the camera's up).
    """

    def __init__(self, *, body: BodyModel, prior: BodyPrior) -> None:
        prior.check(body)
        self.body, self.prior = body, prior
        upright = np.asarray(body.upright, dtype=np.float64)
        self.up, forward = upright.T @ _UP, upright.T @ _TOWARDS_CAMERA
        with torch.no_grad():
            rest = body(shape=torch.tensor([body.neutral_shape], dtype=torch.float32),
                        rotmat=torch.eye(3).repeat(1, body.num_joints, 1, 1))
        vertices, keypoints = (rest[key][0].double().numpy() for key in ('vertices', 'keypoints'))
        self.part = self._parts()
        head = self.part == body.joint_names.index(prior.head)
        self.front_of_head = head & (vertices @ forward > (vertices[head] @ forward).mean())
        self.hair = head & ~self.front_of_head
        if prior.hairline_m is not None:
            ears = keypoints[[body.keypoint_names.index(ear) for ear in ('left_ear', 'right_ear')]]
            self.hair &= vertices @ self.up > (ears @ self.up).mean() - prior.hairline_m
        self.pad_types = self._pads(vertices, keypoints)

    def _parts(self) -> np.ndarray:
        weights = self.body.joint_weights()  # (V, J)
        return weights.argmax(dim=1).cpu().numpy()

    def _pads(self, vertices: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
        types = np.full(len(vertices), -1)
        names = self.body.keypoint_names
        for keypoint, name in enumerate(names):
            if name not in _FACE_KEYPOINTS:
                distance = np.linalg.norm(vertices - keypoints[keypoint], axis=1)
                near = distance < max(_PAD_RADIUS_M, np.hypot(distance.min(), _PAD_DISC_M))
                types[near & (types < 0)] = KEYPOINT_JOINT_TYPES[keypoint]
        for eye in ('left_eye', 'right_eye'):
            types[np.linalg.norm(vertices - keypoints[names.index(eye)], axis=1) < _EYE_RADIUS_M] = EYE_TYPE
        types.setflags(write=False)
        return types

    def stature(self, rest_vertices: Optional[np.ndarray]) -> float:
        """The height (m) a person's pixel height stands for: the prior's ``stature_m``, else the extent of
        ``rest_vertices`` (V, 3), the body at rest in the model frame, along :attr:`up`."""
        if self.prior.stature_m is not None:
            return self.prior.stature_m
        if rest_vertices is None:
            raise ValueError(f'MeshBody.stature: the {self.prior.annotation_name} prior measures each body\'s '
                             'stature; rest_vertices (V, 3) must be given')
        height = rest_vertices @ self.up
        return float(height.max() - height.min())


@functools.lru_cache(maxsize=4)
def _cached(name: str, seed: Optional[int]) -> MeshBody:
    return MeshBody(body=_BUILDERS[name](0 if seed is None else seed).eval(), prior=BODY_PRIORS[name])


def cached_mesh_body(name: str, seed: int = 0) -> MeshBody:
    """The :class:`MeshBody` of ``name`` (one of :data:`BODY_MODEL_NAMES`), built once per process; ``seed``
    selects the synthetic mannequin (Anny has none)."""
    if name not in BODY_PRIORS:
        raise ValueError(f'cached_mesh_body: name must be one of {list(BODY_MODEL_NAMES)}, got {name!r}')
    return _cached(name, seed if name == 'synthetic_smpl' else None)
