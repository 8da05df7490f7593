from .fully_conv_vgg import FullyConvVGG

__all__ = ['FullyConvVGG']
