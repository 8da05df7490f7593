"""Pure state-dict converters from published weights to the plugin's checkpoints.

The command-line front ends are in ``tools/model_converters/``.
"""
from .caffemodel import read_caffemodel
from .common import load_weights, make_checkpoint, unwrap_state_dict
from .fcn import (VARIANTS, caffe_fcn_to_mmseg, detect_fcn_variant, fcn_meta,
                  is_bilinear_upscore)
from .vgg import backbone_meta, caffe_vgg_to_mmseg, torchvision_vgg_to_mmseg

__all__ = [
    'VARIANTS', 'backbone_meta', 'caffe_fcn_to_mmseg', 'caffe_vgg_to_mmseg',
    'detect_fcn_variant', 'fcn_meta', 'is_bilinear_upscore', 'load_weights',
    'make_checkpoint', 'read_caffemodel', 'torchvision_vgg_to_mmseg',
    'unwrap_state_dict'
]
