"""SMPL body layer on ``smplx``'s linear blend skinning: (betas, rotations) -> vertices, joints, COCO keypoints."""
from typing import Dict, Mapping, Optional

import numpy as np
import torch
from smplx.lbs import lbs
from torch import Tensor

from pose_plugins.registry import MODELS
from .body_model import BodyModel
from .model_file import load_smpl_model_file
from .smpl_format import COCO_KEYPOINT_SOURCES, SMPL_FLIP_INDICES, SMPL_JOINT_NAMES, SMPL_NUM_JOINTS, SMPL_PARENTS

__all__ = ['SMPL']


@MODELS.register_module()
class SMPL(BodyModel):
    """The SMPL body model (Loper et al., "SMPL: A Skinned Multi-Person Linear Model", SIGGRAPH Asia 2015) as a
    :class:`~.body_model.BodyModel`: betas and the 24 joint rotations in; posed mesh, joints and COCO keypoints
    (:data:`~.smpl_format.COCO_KEYPOINT_SOURCES`) out, in metres in SMPL's model frame (y up, facing +z).

    Skinning is ``smplx.lbs.lbs`` with rotation matrices (``pose2rot=False``), as smplx's ``SMPLLayer``, but the
    model arrays are non-persistent buffers (from the model file, never in a checkpoint) and the file is read by
    :func:`~.model_file.load_smpl_model_file` (no chumpy, no pickled code).

    Note:
        - B: batch size; V: 6890 vertices; J: 24 joints; S: ``num_betas``

    Args:
        model_path (str): The user's SMPL model file (``.pkl`` as distributed, or ``.npz`` from
            ``tools/convert_smpl_model.py``).
        num_betas (int): Shape coefficients used, at most the file's (10 for SMPL 1.0).
        arrays (Mapping[str, np.ndarray], optional): The model's arrays in SMPL's file layout instead of
            ``model_path`` (exactly one of the two is given; ``pose_plugins.synthetic.SyntheticSMPL`` uses it).

    Raises:
        ValueError: Neither or both of ``model_path`` and ``arrays``, or ``num_betas`` out of range.
    """

    def __init__(self, *, model_path: Optional[str] = None, num_betas: int = 10,
                 arrays: Optional[Mapping[str, np.ndarray]] = None) -> None:
        super().__init__()
        if (model_path is None) == (arrays is None):
            raise ValueError('SMPL needs model_path (your SMPL model file, e.g. data/smpl/SMPL_NEUTRAL.npz) or arrays, '
                             f'exactly one of them; got model_path={model_path!r} and arrays '
                             f'{"given" if arrays is not None else "None"}. For tests and demos without an SMPL file, '
                             "use dict(type='pose_plugins.SyntheticSMPL') from pose_plugins.synthetic (NOT SMPL)")
        source = 'the given arrays' if model_path is None else str(model_path)
        if arrays is None:
            arrays = load_smpl_model_file(model_path)
        available = arrays['shapedirs'].shape[2]
        if isinstance(num_betas, bool) or not isinstance(num_betas, int) or not 1 <= num_betas <= available:
            raise ValueError(f'num_betas must be an int in [1, {available}] for {source}, got {num_betas!r}')
        self.model_path = model_path
        self.num_betas = num_betas
        self.name = 'smpl'
        self.joint_names, self.parents, self.flip_indices = SMPL_JOINT_NAMES, SMPL_PARENTS, SMPL_FLIP_INDICES
        self.shape_names = tuple(f'beta_{i}' for i in range(num_betas))
        self.neutral_shape = (0.0, ) * num_betas
        self.upright = ((1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, -1.0))  # a half turn about x: y up -> y down
        self.faces: np.ndarray = arrays['f'].astype(np.int64)  # (F, 3)
        self.faces.setflags(write=False)
        self.num_vertices = int(arrays['v_template'].shape[0])

        def buffer(name: str, value: np.ndarray, dtype: torch.dtype = torch.float32) -> None:
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(value), dtype=dtype), persistent=False)

        buffer('v_template', arrays['v_template'])  # (V, 3)
        buffer('shapedirs', arrays['shapedirs'][:, :, :num_betas])  # (V, 3, S)
        buffer('posedirs', arrays['posedirs'].reshape(-1, arrays['posedirs'].shape[-1]).T)  # (207, V * 3), as smplx
        buffer('J_regressor', arrays['J_regressor'])  # (J, V)
        buffer('lbs_weights', arrays['weights'])  # (V, J)
        parents = arrays['kintree_table'][0].copy()
        parents[0] = -1
        buffer('parents_index', parents, torch.long)  # (J,)
        vertex_ids = [index for _, kind, index in COCO_KEYPOINT_SOURCES if kind == 'vertex']
        buffer('keypoint_vertex_ids', np.asarray(vertex_ids), torch.long)  # (5,)
        # keypoint k = cat([joints, vertices[:, keypoint_vertex_ids]], 1)[:, keypoint_index[k]]
        keypoint_index = [index if kind == 'joint' else SMPL_NUM_JOINTS + vertex_ids.index(index)
                          for _, kind, index in COCO_KEYPOINT_SOURCES]
        buffer('keypoint_index', np.asarray(keypoint_index), torch.long)  # (17,)

    def joint_weights(self) -> Tensor:
        """(V, 24) SMPL's skinning weights."""
        return self.lbs_weights

    def pose_body(self, shape: Tensor, rotmat: Tensor) -> Dict[str, Tensor]:
        """:meth:`~.body_model.BodyModel.forward` with ``shape`` the betas (B, S) and ``rotmat`` (B, 24, 3, 3):
        ``joints`` are SMPL's regressed joints after posing."""
        dtype = self.v_template.dtype
        vertices, joints = lbs(shape.to(dtype), rotmat.to(dtype), self.v_template, self.shapedirs, self.posedirs,
                               self.J_regressor, self.parents_index, self.lbs_weights, pose2rot=False)
        candidates = torch.cat([joints, vertices[:, self.keypoint_vertex_ids]], dim=1)
        return dict(vertices=vertices, joints=joints, keypoints=candidates[:, self.keypoint_index])
