"""Files in the published layouts, of real key names and conv shapes but light."""

import io

import torch

from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import caffe_vgg16, fcn_head, torchvision_vgg

#: fc6/fc7 width of the light files (the real nets have 4096).
VGG11_FC_CHANNELS = 64
FCN_FC_CHANNELS = 8
FCN_CLASSES = 21


def torchvision_vgg11_file(seed: int = 0) -> bytes:
    """``torch.save`` of a torchvision VGG11 state dict (``features.N``,
    ``classifier.{0,3,6}``) with torchvision's conv widths and fc6/fc7 of 64."""
    buffer = io.BytesIO()
    torch.save(torchvision_vgg(11, False, fc_channels=VGG11_FC_CHANNELS, seed=seed), buffer)
    return buffer.getvalue()


def caffe_fcn32s_file(seed: int = 0, num_classes: int = FCN_CLASSES) -> bytes:
    """A ``.caffemodel`` of the reference FCN-32s: VGG16 convs, fc6/fc7 of 8,
    ``num_classes`` classes, bilinear ``upscore``."""
    generator = torch.Generator().manual_seed(seed)
    weights = dict(
        caffe_vgg16(generator, fc_channels=FCN_FC_CHANNELS),
        **fcn_head('32s', num_classes, generator, fc_channels=FCN_FC_CHANNELS),
    )
    types = {key.rsplit('.', 1)[0]: 'Convolution' for key in weights}
    types['upscore'] = 'Deconvolution'
    return caffemodel(weights, types)
