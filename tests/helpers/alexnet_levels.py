"""A second described backbone for the tests: the levels of a fully convolutional
AlexNet (conv1 11x11 stride 4 padded by 100 in caffe mode, 3x3/2 poolings that round
up, fc6 6x6), and the same layers in torch to check the description against."""

import torch.nn as nn

from mmseg_fcn_skip.models.backbones.levels import BackboneLevels, Window

ALEXNET = BackboneLevels(
    'TestAlexNet',
    'AlexNet',
    windows=(
        Window('conv1', 11, 4, padding={'same': 5, 'caffe': 100}),
        Window('pool1', 3, 2, ceil=True),
        Window('conv2', 5, padding=2),
        Window('pool2', 3, 2, ceil=True),
        Window('pool5', 3, 2, ceil=True),
        Window('fc6', 6, padding={'same': 3, 'caffe': 0}),
        Window('fc7', 1),
    ),
    names=('pool1', 'pool2', 'pool5', 'fc7'),
    channels=(96, 256, 256, 4096),
    caffe_size_rule='gives pool levels that halve (rounding up) and fc7 5 pixels smaller than pool5',
)


def alexnet_layers(pad_mode: str) -> nn.ModuleList:
    """One-channel torch layers of ``ALEXNET``'s windows, input first."""
    layers = []
    for window in ALEXNET.windows:
        if window.ceil:
            layers.append(nn.MaxPool2d(window.kernel, window.stride, ceil_mode=True))
        else:
            pad = window.pad(pad_mode)
            layers.append(nn.Conv2d(1, 1, window.kernel, window.stride, padding=pad))
    return nn.ModuleList(layers)
