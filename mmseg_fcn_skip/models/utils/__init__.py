from .upsample import Upsample, bilinear_kernel

__all__ = ['Upsample', 'bilinear_kernel']
