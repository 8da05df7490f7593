from .tracing import is_tracing
from .upsample import Upsample, bilinear_kernel

__all__ = ['Upsample', 'bilinear_kernel', 'is_tracing']
