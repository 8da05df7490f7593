"""Pure state-dict converters from published weights to the plugin's checkpoints.

One converter per published layout (``checkpoints.layouts``), and the command line
that runs it (``tools/model_converters/``). Files are read by
``checkpoints.read_weights``; ``checkpoints.convert`` picks the converter of a
layout and is what the command lines and the weights cache call.
"""

from .caffemodel import read_caffemodel
from .common import make_checkpoint
from .fcn import VARIANTS, caffe_fcn_to_mmseg, detect_fcn_variant, fcn_meta, is_bilinear_upscore
from .vgg import backbone_meta, caffe_vgg_to_mmseg, torchvision_vgg_to_mmseg

#: The command lines of the converters, named in messages.
TORCHVISION_VGG_CONVERTER = 'tools/model_converters/torchvision_vgg2mmseg.py'
CAFFE_VGG_CONVERTER = 'tools/model_converters/caffe_vgg2mmseg.py'
CAFFE_FCN_CONVERTER = 'tools/model_converters/caffe_fcn2mmseg.py'

__all__ = [
    'CAFFE_FCN_CONVERTER',
    'CAFFE_VGG_CONVERTER',
    'TORCHVISION_VGG_CONVERTER',
    'VARIANTS',
    'backbone_meta',
    'caffe_fcn_to_mmseg',
    'caffe_vgg_to_mmseg',
    'detect_fcn_variant',
    'fcn_meta',
    'is_bilinear_upscore',
    'make_checkpoint',
    'read_caffemodel',
    'torchvision_vgg_to_mmseg',
]
