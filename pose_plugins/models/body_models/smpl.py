"""SMPL body layer on ``smplx``'s linear blend skinning: (betas, rotations) -> vertices, joints, COCO keypoints."""
from typing import Dict, Optional

import numpy as np
import torch
from smplx.lbs import lbs
from torch import Tensor, nn

from pose_plugins.registry import MODELS
from .model_file import load_smpl_model_file
from .smpl_format import COCO_KEYPOINT_SOURCES, SMPL_NUM_BODY_JOINTS, SMPL_NUM_JOINTS
from .synthetic_smpl import make_synthetic_smpl

__all__ = ['SMPL']


@MODELS.register_module()
class SMPL(nn.Module):
    """The SMPL body model (Loper et al., "SMPL: A Skinned Multi-Person Linear Model", SIGGRAPH Asia 2015) as a
    layer without parameters: shape and pose in, posed mesh and joints out.

    The skinning is ``smplx.lbs.lbs`` (https://github.com/vchoutas/smplx, 0.1.28) with rotation matrices
    (``pose2rot=False``): ``v_shaped = v_template + shapedirs @ betas``, ``J = J_regressor @ v_shaped``,
    ``v_posed = v_shaped + posedirs @ vec(R_1..R_23 - I)``, then each vertex moves by the weighted sum of its
    joints' rigid transforms along SMPL's kinematic tree. As smplx's ``SMPLLayer``, but the model arrays are
    buffers registered with ``persistent=False``: they come from the model file, never from (or into) a
    checkpoint, and the file is read by :func:`~.model_file.load_smpl_model_file` (no chumpy, no pickled code).

    ``keypoints`` are COCO's 17 keypoints on the posed mesh (:data:`~.smpl_format.COCO_KEYPOINT_SOURCES`): the
    nose, eyes and ears are the face vertices smplx uses (332, 2800, 6260, 583, 4071), the body keypoints SMPL's
    joints (shoulders 16/17, elbows 18/19, wrists 20/21, hips 1/2, knees 4/5, ankles 7/8).

    All outputs are in metres in SMPL's model frame (y up, the body faces +z), without translation.

    Note:
        - B: batch size; V: 6890 vertices; J: 24 joints; S: ``num_betas``

    Args:
        model_path (str, optional): The user's SMPL model file (``.pkl`` as distributed, or ``.npz`` from
            ``tools/convert_smpl_model.py``). ``None`` uses the synthetic mannequin of
            :func:`~.synthetic_smpl.make_synthetic_smpl` (NOT SMPL; generated once per process and seed).
        num_betas (int): Shape coefficients used, at most the file's (10 for SMPL 1.0 and the synthetic model).
        seed (int): The synthetic model's seed; only used when ``model_path`` is ``None``.
    """

    def __init__(self, *, model_path: Optional[str] = None, num_betas: int = 10, seed: int = 0) -> None:
        super().__init__()
        arrays = make_synthetic_smpl(seed=seed) if model_path is None else load_smpl_model_file(model_path)
        source = 'the synthetic model' if model_path is None else str(model_path)
        available = arrays['shapedirs'].shape[2]
        if isinstance(num_betas, bool) or not isinstance(num_betas, int) or not 1 <= num_betas <= available:
            raise ValueError(f'num_betas must be an int in [1, {available}] for {source}, got {num_betas!r}')
        self.model_path = model_path
        self.num_betas = num_betas
        self.faces: np.ndarray = arrays['f'].astype(np.int64)  # (F, 3)
        self.faces.setflags(write=False)

        def buffer(name: str, value: np.ndarray, dtype: torch.dtype = torch.float32) -> None:
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(value), dtype=dtype), persistent=False)

        buffer('v_template', arrays['v_template'])  # (V, 3)
        buffer('shapedirs', arrays['shapedirs'][:, :, :num_betas])  # (V, 3, S)
        buffer('posedirs', arrays['posedirs'].reshape(-1, arrays['posedirs'].shape[-1]).T)  # (207, V * 3), as smplx
        buffer('J_regressor', arrays['J_regressor'])  # (J, V)
        buffer('lbs_weights', arrays['weights'])  # (V, J)
        parents = arrays['kintree_table'][0].copy()
        parents[0] = -1
        buffer('parents', parents, torch.long)  # (J,)
        vertex_ids = [index for _, kind, index in COCO_KEYPOINT_SOURCES if kind == 'vertex']
        buffer('keypoint_vertex_ids', np.asarray(vertex_ids), torch.long)  # (5,)
        # keypoint k = cat([joints, vertices[:, keypoint_vertex_ids]], 1)[:, keypoint_index[k]]
        keypoint_index = [index if kind == 'joint' else SMPL_NUM_JOINTS + vertex_ids.index(index)
                          for _, kind, index in COCO_KEYPOINT_SOURCES]
        buffer('keypoint_index', np.asarray(keypoint_index), torch.long)  # (17,)

    def forward(self, *, betas: Tensor, body_pose: Tensor, global_orient: Tensor) -> Dict[str, Tensor]:
        """Pose and shape the body.

        Args:
            betas (Tensor): Shape coefficients, (B, S).
            body_pose (Tensor): Rotation matrices of joints 1..23 relative to their parents, (B, 23, 3, 3).
            global_orient (Tensor): Rotation matrix of the root (pelvis), (B, 1, 3, 3).
            All three are cast to the layer's dtype (its buffers': float32 unless the layer was converted).

        Returns:
            Dict[str, Tensor]: ``vertices`` (B, V, 3); ``joints`` (B, J, 3): SMPL's regressed joints after posing;
            ``keypoints`` (B, 17, 3): COCO's keypoints from the mesh. Metres, model frame, no translation.
        """
        batch = betas.shape[0] if betas.ndim == 2 else -1
        expected = dict(betas=(batch, self.num_betas), body_pose=(batch, SMPL_NUM_BODY_JOINTS, 3, 3),
                        global_orient=(batch, 1, 3, 3))
        for name, tensor in dict(betas=betas, body_pose=body_pose, global_orient=global_orient).items():
            if tuple(tensor.shape) != expected[name] or batch < 1:
                shape = ', '.join(str(n) for n in expected[name][1:])
                raise ValueError(f'SMPL.forward: {name} must have shape (B, {shape}) with the batch size B of betas, '
                                 f'got {tuple(tensor.shape)}')
        dtype = self.v_template.dtype  # the layer's (float32 unless converted); inputs follow it
        pose = torch.cat([global_orient, body_pose], dim=1).to(dtype)  # (B, J, 3, 3)
        vertices, joints = lbs(betas.to(dtype), pose, self.v_template, self.shapedirs, self.posedirs, self.J_regressor,
                               self.parents, self.lbs_weights, pose2rot=False)
        candidates = torch.cat([joints, vertices[:, self.keypoint_vertex_ids]], dim=1)
        return dict(vertices=vertices, joints=joints, keypoints=candidates[:, self.keypoint_index])
