"""Pose losses: heatmap, coordinate and mesh-recovery terms."""
from .coordinate_l1_loss import CoordinateL1Loss
from .keypoint_js_divergence_loss import KeypointJSDivergenceLoss
from .keypoint_mse_loss import KeypointMSELoss
from .keypoint_ohkm_mse_loss import KeypointOHKMMSELoss
from .masked_regression_loss import MaskedRegressionLoss  # noqa: F401  (mesh recovery)
from .root_relative_joint_loss import RootRelativeJointLoss  # noqa: F401
from .shape_prior_loss import ShapePriorLoss  # noqa: F401

__all__ = ['CoordinateL1Loss', 'KeypointJSDivergenceLoss', 'KeypointMSELoss', 'KeypointOHKMMSELoss']
