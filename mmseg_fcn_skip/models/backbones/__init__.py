from .fully_conv_alexnet import FullyConvAlexNet
from .fully_conv_vgg import FullyConvVGG
from .levels import BackboneLevels, Window, backbone_levels, register_levels
from .multi_stream import MultiStreamBackbone

__all__ = [
    'BackboneLevels',
    'FullyConvAlexNet',
    'FullyConvVGG',
    'MultiStreamBackbone',
    'Window',
    'backbone_levels',
    'register_levels',
]
