from .coordinate_l1_loss import CoordinateL1Loss
from .keypoint_js_divergence_loss import KeypointJSDivergenceLoss
from .keypoint_mse_loss import KeypointMSELoss
from .keypoint_ohkm_mse_loss import KeypointOHKMMSELoss

__all__ = ['CoordinateL1Loss', 'KeypointJSDivergenceLoss', 'KeypointMSELoss', 'KeypointOHKMMSELoss']
