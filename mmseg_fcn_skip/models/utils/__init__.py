from .tracing import is_tracing
from .upsample import Upsample, bilinear_kernel, upsample_alignment

__all__ = ['Upsample', 'bilinear_kernel', 'is_tracing', 'upsample_alignment']
