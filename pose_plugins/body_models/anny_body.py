"""The Anny body model as a :class:`~.body_model.BodyModel`: phenotypes and bone rotations in, posed mesh out, by a
forward of ours that exports to ONNX, on the arrays of the installed ``anny`` package."""
from typing import Dict, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from pose_plugins.registry import MODELS
from .anny_rig import (ancestor_matrix, anny_model_arrays, mirror_indices, pointer_jumps, posed_ancestors,
                       resolve_posed_bones, special_procrustes_horn, summation_blocks)
from .body_model import BodyModel

__all__ = ['AnnyBody']


@MODELS.register_module()
class AnnyBody(BodyModel):
    """Anny (Brégier et al., "Human Mesh Modeling for Anny Body", arXiv 2511.03589, NAVER LABS Europe; code
    Apache-2.0, assets CC0 from MakeHuman) as a :class:`~.body_model.BodyModel`; not SMPL: its own mesh, 104-bone
    rig and shape space. Metres; model frame z up, the body facing -y, its left at +x.

    Shape: the phenotypes gender (0 male, 1 female), age (0 baby, 1/3 child, 2/3 young adult, 1 old), muscle,
    weight, height, proportions; 0.5 neutral, race 1/3 each, clamped to Anny's anchors as Anny does (age down to
    -1/3, newborn). Pose: per posed bone, Anny's 'local-ref' delta: its rotation about its head relative to its
    parent, in world-aligned axes (turned by the ancestors' deltas); the root's is the global orientation about the
    origin, where the pelvis (the root's head) is put. Unposed bones keep the identity and follow their parents;
    all identities give Anny's reference pose (standing, arms in an A).

    Reproduces ``anny.Anny(skinning_method='lbs')(pose_parameters, phenotype_kwargs)`` (its defaults: cached bone
    orientations, compact phenotype blendshapes), rewritten to export to ONNX (opset 17): float32 (``.double()``
    for float64), Horn's quaternion method by repeated squaring (:func:`~.anny_rig.special_procrustes_horn`) for the
    rest orientations instead of roma's, no searchsorted, the chain by pointer jumping. anny's arrays are read once
    per process into non-persistent buffers; COCO keypoints: the first 17 rows of ``anny.KeypointsRegressor.coco``.

    Note:
        B: batch size; S: 6 phenotypes; J: posed bones; K: 104 bones; V: 13718 vertices; C: 136 blendshapes.

    Args:
        posed_bones (str | Sequence[str]): ``'body'`` (:data:`~.anny_rig.BODY_BONES`, J = 26), ``'all'`` (K) or
            Anny bone labels: the root first, each after its nearest posed ancestor, both sides of ``.L`` / ``.R``.

    Raises:
        ValueError: naming ``posed_bones`` when it is not a preset or such a list.
    """

    def __init__(self, *, posed_bones: Union[str, Sequence[str]] = 'body') -> None:
        super().__init__()
        data = anny_model_arrays()
        labels, bone_parents = data.bone_labels, data.bone_parents
        names = resolve_posed_bones(posed_bones, labels, bone_parents)
        posed_index = [labels.index(name) for name in names]
        posed_parents = posed_ancestors(names, labels, bone_parents)
        self.posed_bones = posed_bones
        self.name = 'anny'
        self.joint_names = names
        self.parents = tuple(posed_parents[k] for k in posed_index)
        self.flip_indices = mirror_indices(names)
        self.shape_names = data.phenotype_labels
        self.neutral_shape = (0.5, ) * len(self.shape_names)
        self.shape_range = (0.0, 1.0)
        self.upright = ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0))  # z up, facing -y -> y down, facing -z
        self.faces: np.ndarray = data.faces  # (T, 3) int64, read-only
        self.num_vertices = int(data.template_vertices.shape[0])
        num_blendshapes = data.blendshapes.shape[0]

        def buffer(name: str, value: np.ndarray, dtype: torch.dtype = torch.float32) -> None:
            self.register_buffer(name, torch.tensor(np.array(value), dtype=dtype), persistent=False)

        # anny's arrays (shapes: AnnyArrays), the blendshapes flattened to (C, -1)
        buffer('variation_source', data.variation_source, torch.long)
        for key in ('scale', 'offset', 'anchor', 'last'):
            buffer(f'variation_{key}', getattr(data, f'variation_{key}'))
        buffer('variation_is_race', data.variation_is_race, torch.bool)
        buffer('phenotype_mask', data.phenotype_mask)
        buffer('phenotype_projection', data.phenotype_projection)
        buffer('template_vertices', data.template_vertices)
        buffer('vertex_blendshapes', data.blendshapes.reshape(num_blendshapes, -1))
        buffer('template_heads', data.template_bone_heads)
        buffer('head_blendshapes', data.bone_heads_blendshapes.reshape(num_blendshapes, -1))
        buffer('template_orientations', data.bone_template_orientation_matrices)
        buffer('orientation_blendshapes', data.bone_orientation_blendshapes.reshape(num_blendshapes, -1))
        buffer('reference_orientations', data.reference_bone_orientations)
        buffer('bone_parents', [max(p, 0) for p in bone_parents], torch.long)  # (K,), the root its own
        buffer('ancestors', ancestor_matrix(bone_parents))  # (K, K)
        buffer('delta_source', [names.index(n) if n in names else len(names) for n in labels], torch.long)  # (K,), J: none
        buffer('jumps', pointer_jumps(bone_parents), torch.long)  # (steps, K)
        buffer('posed_index', posed_index, torch.long)  # (J,)
        buffer('vertex_bone_weights', data.vertex_bone_weights)  # (V, K)
        # (blocks, 17, V / blocks): a float32 matrix-vector product sums up to the ears' 4105 weights in sequence;
        # blocks of about sqrt(V) vertices keep both sums short
        blocks = summation_blocks(self.num_vertices)
        buffer('keypoint_weights', data.coco_weights.reshape(len(data.coco_weights), blocks, -1).transpose(1, 0, 2))

    def joint_weights(self) -> Tensor:
        """(V, J) Anny's skinning weights, an unposed bone's weight given to its nearest posed ancestor (which it
        follows)."""
        source, parents = self.delta_source.tolist(), self.bone_parents.tolist()  # (K,): posed index or J; parent
        joint_of_bone = []
        for bone in range(len(source)):
            while source[bone] == self.num_joints:
                bone = parents[bone]
            joint_of_bone.append(source[bone])
        to_joints = torch.zeros(len(source), self.num_joints, dtype=self.vertex_bone_weights.dtype)
        to_joints[torch.arange(len(source)), joint_of_bone] = 1.0
        return self.vertex_bone_weights @ to_joints.to(self.vertex_bone_weights.device)

    def phenotype_coefficients(self, shape: Tensor) -> Tensor:
        """(B, S) phenotypes -> (B, C) coefficients of Anny's compact phenotype blendshapes: products of linear
        interpolation weights, by interval (as searchsorted: Anny's one-sided gradient at an anchor, where a hat
        function's is 0)."""
        values = torch.cat([shape, torch.full_like(shape[:, :1], 0.5)], dim=1)[:, self.variation_source]  # (B, Q)
        t = values * self.variation_scale + self.variation_offset
        t = torch.where(t < 0, torch.zeros_like(t), t)
        t = torch.where(t > self.variation_last, self.variation_last.expand_as(t), t)
        last_interval = (self.variation_last - 1).expand_as(t)
        lower = (torch.ceil(t) - 1).clamp_min(0)
        lower = torch.where(lower > last_interval, last_interval, lower)
        alpha = t - lower
        weights = (self.variation_anchor == lower).to(t.dtype) * (1 - alpha) + \
            (self.variation_anchor == lower + 1).to(t.dtype) * alpha
        weights = torch.where(self.variation_is_race, torch.full_like(weights, 1.0 / 3.0), weights)
        mask = self.phenotype_mask
        return (weights[:, None] * mask + (1 - mask)).prod(-1) @ self.phenotype_projection

    def rest_model(self, shape: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """(B, S) phenotypes -> rest vertices (B, V, 3), bone heads (B, K, 3), bone orientations (B, K, 3, 3)."""
        coefficients = self.phenotype_coefficients(shape)
        batch = shape.shape[0]
        vertices = self.template_vertices + (coefficients @ self.vertex_blendshapes).reshape(batch, -1, 3)
        heads = self.template_heads + (coefficients @ self.head_blendshapes).reshape(batch, -1, 3)
        matrices = self.template_orientations + (coefficients @ self.orientation_blendshapes).reshape(batch, -1, 3, 3)
        return vertices, heads, special_procrustes_horn(matrices)

    def bone_transforms(self, rotmat: Tensor, heads: Tensor, orientations: Tensor) -> Tuple[Tensor, Tensor]:
        """Anny's 'local-ref' forward kinematics with rotation deltas (``anny.utils.kinematics``' notation, p the
        parent): ``W_c = W_p [U_p^T D_c U_c | U_p^T A_p (h_c - h_p)]``, ``A_c = U_c R_c^T`` (``A_0 = I``), ``W_0 =
        [U_0^T D_0 U_0 | 0]``; ``T_c = W_c P_c^-1``. V (``W_c = [V_c | w_c]``) by pointer jumping, w by the ancestor
        matrix.

        Args:
            rotmat (Tensor): (B, J, 3, 3) the posed bones' deltas D (the others': identity).
            heads (Tensor): (B, K, 3) rest bone heads h.
            orientations (Tensor): (B, K, 3, 3) rest bone orientations R (U: the reference ones).

        Returns:
            Tuple[Tensor, Tensor]: bone transforms T (B, K, 3, 4) and posed bone heads w (B, K, 3).
        """
        eye = torch.eye(3, dtype=rotmat.dtype, device=rotmat.device).expand(rotmat.shape[0], 1, 3, 3)
        reference, parents = self.reference_orientations, self.bone_parents
        deltas = torch.cat([rotmat, eye], dim=1)[:, self.delta_source]  # (B, K, 3, 3) D
        rotations = reference[parents].transpose(-1, -2) @ deltas @ reference
        for jump in self.jumps:
            rotations = torch.cat([rotations, eye], dim=1)[:, jump] @ rotations  # (B, K, 3, 3) V
        to_reference = reference @ orientations.transpose(-1, -2)  # (B, K, 3, 3) A
        offsets = rotations @ reference.transpose(-1, -2) @ torch.cat([eye, to_reference[:, 1:]], dim=1)
        steps = (offsets[:, parents] @ (heads - heads[:, parents])[..., None]).squeeze(-1)
        posed_heads = self.ancestors @ steps
        rotations = rotations @ orientations.transpose(-1, -2)
        translations = posed_heads - (rotations @ heads[..., None]).squeeze(-1)
        return torch.cat([rotations, translations[..., None]], dim=-1), posed_heads

    def pose_body(self, shape: Tensor, rotmat: Tensor) -> Dict[str, Tensor]:
        """:meth:`~.body_model.BodyModel.forward` with ``shape`` the phenotypes (B, S) and ``rotmat`` the posed
        bones' deltas (B, J, 3, 3): ``joints`` are the posed bones' heads after posing."""
        dtype = self.template_vertices.dtype
        rest_vertices, heads, orientations = self.rest_model(shape.to(dtype))
        transforms, posed_heads = self.bone_transforms(rotmat.to(dtype), heads, orientations)
        batch, bones = rotmat.shape[0], transforms.shape[1]
        # one (V, K) @ (K, B * 12) product for all the batch; vertices (V, B, 3) until returned
        blend = self.vertex_bone_weights @ transforms.reshape(batch, bones, 12).transpose(0, 1).reshape(bones, -1)
        blend = blend.reshape(-1, batch, 3, 4)
        vertices = (blend[..., :3] * rest_vertices.transpose(0, 1)[:, :, None]).sum(-1) + blend[..., 3]
        blocks = len(self.keypoint_weights)
        keypoints = (self.keypoint_weights @ vertices.reshape(blocks, -1, batch * 3)).sum(0)
        keypoints = keypoints.reshape(-1, batch, 3).transpose(0, 1)
        vertices = vertices.transpose(0, 1).contiguous()
        return dict(vertices=vertices, joints=posed_heads[:, self.posed_index], keypoints=keypoints)
