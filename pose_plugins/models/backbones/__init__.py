from .hrnet import HRNet

__all__ = ['HRNet']
