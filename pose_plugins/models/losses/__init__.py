from .keypoint_mse_loss import KeypointMSELoss
from .keypoint_ohkm_mse_loss import KeypointOHKMMSELoss

__all__ = ['KeypointMSELoss', 'KeypointOHKMMSELoss']
