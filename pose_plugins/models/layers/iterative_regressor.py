"""Iterative error feedback (IEF): body parameters refined from pooled features in a few residual steps.

Kanazawa et al., "End-to-end Recovery of Human Shape and Pose", CVPR 2018 (HMR); layer names and init as SPIN
(Kolotouros et al., ICCV 2019), so SPIN's regressor weights map one to one.
"""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

__all__ = ['IterativeRegressor']


class IterativeRegressor(BaseModule):
    """``num_iterations`` times: ``[x, pose, shape, camera]`` -> ``fc1`` -> ReLU -> dropout -> ``fc2`` -> ReLU ->
    dropout -> ``decpose`` / ``decshape`` / ``deccam`` residuals added to the estimate, from the start buffers.

    Note:
        B: batch size; F: ``in_features``; P: pose size (6 per joint); S: shape parameters.

    Args:
        in_features (int): F, the pooled features' width.
        init_pose (Tensor): (P,) start pose; ``init_shape`` (S,); ``init_cam`` (3,). Non-persistent buffers.
        hidden_channels (int): Width of ``fc1`` / ``fc2``.
        num_iterations (int): IEF steps.
        dropout (float): Dropout after ``fc1`` and ``fc2``.
        init_cfg (dict, optional): Defaults to SPIN's xavier-uniform, gain 0.01, on the three decoders.
    """

    def __init__(self, *, in_features: int, init_pose: Tensor, init_shape: Tensor, init_cam: Tensor,
                 hidden_channels: int = 1024, num_iterations: int = 3, dropout: float = 0.5,
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is None:
            init_cfg = dict(type='Xavier', gain=0.01, distribution='uniform',
                            override=[dict(name='decpose'), dict(name='decshape'), dict(name='deccam')])
        super().__init__(init_cfg=init_cfg)
        self.num_iterations = num_iterations
        npose, nbetas = init_pose.numel(), init_shape.numel()
        self.fc1 = nn.Linear(in_features + npose + nbetas + 3, hidden_channels)
        self.drop1 = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden_channels, hidden_channels)
        self.drop2 = nn.Dropout(dropout)
        self.decpose = nn.Linear(hidden_channels, npose)
        self.decshape = nn.Linear(hidden_channels, nbetas)
        self.deccam = nn.Linear(hidden_channels, 3)
        self.register_buffer('init_pose', init_pose, persistent=False)
        self.register_buffer('init_shape', init_shape, persistent=False)
        self.register_buffer('init_cam', init_cam, persistent=False)

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        """Args: x (Tensor): (B, F). Returns: dict ``pose_6d`` (B, P), ``shape`` (B, S), ``camera`` (B, 3)."""
        batch = x.shape[0]
        pose = self.init_pose.expand(batch, -1)
        shape = self.init_shape.expand(batch, -1)
        camera = self.init_cam.expand(batch, -1)
        for _ in range(self.num_iterations):
            hidden = self.drop1(torch.relu(self.fc1(torch.cat([x, pose, shape, camera], dim=1))))
            hidden = self.drop2(torch.relu(self.fc2(hidden)))
            pose = pose + self.decpose(hidden)
            shape = shape + self.decshape(hidden)
            camera = camera + self.deccam(hidden)
        return dict(pose_6d=pose, shape=shape, camera=camera)
