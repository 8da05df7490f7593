"""Pure state-dict converters from published weights to the plugin's checkpoints.

Files are read by ``checkpoints.read_weights``; ``checkpoints.convert`` picks the
converter of a layout and is what the command-line front ends
(``tools/model_converters/``) and the weights cache call.
"""

from .caffemodel import read_caffemodel
from .common import make_checkpoint
from .fcn import VARIANTS, caffe_fcn_to_mmseg, detect_fcn_variant, fcn_meta, is_bilinear_upscore
from .vgg import backbone_meta, caffe_vgg_to_mmseg, torchvision_vgg_to_mmseg

__all__ = [
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
