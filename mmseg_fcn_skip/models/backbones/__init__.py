from .fully_conv_vgg import FullyConvVGG
from .levels import BackboneLevels, Window, backbone_levels, register_levels

__all__ = ['BackboneLevels', 'FullyConvVGG', 'Window', 'backbone_levels', 'register_levels']
