"""A second described backbone for the tests: the levels of ``FullyConvAlexNet``
(conv1 11x11 stride 4 padded by 100 in caffe mode, 3x3/2 poolings that round up,
fc6 6x6) under a test type name, and the same windows as one-channel torch layers
to check the description against."""

import torch.nn as nn

from mmseg_fcn_skip.models.backbones.fully_conv_alexnet import LEVELS
from mmseg_fcn_skip.models.backbones.levels import BackboneLevels

ALEXNET = BackboneLevels(
    'TestAlexNet',
    LEVELS.family,
    LEVELS.windows,
    LEVELS.names,
    LEVELS.channels,
    LEVELS.caffe_size_rule,
)


def alexnet_layers(pad_mode: str) -> nn.ModuleList:
    """One-channel torch layers of ``ALEXNET``'s windows, input first."""
    layers = []
    for window in ALEXNET.windows:
        pad, ceil = window.pad(pad_mode), window.rounds_up(pad_mode)
        if window.name.startswith('pool'):
            layers.append(nn.MaxPool2d(window.kernel, window.stride, pad, ceil_mode=ceil))
        else:
            layers.append(nn.Conv2d(1, 1, window.kernel, window.stride, padding=pad))
    return nn.ModuleList(layers)
