"""The reference FCN-AlexNet for the tests, written from its Caffe net definition
(voc-fcn-alexnet): random weights under the Caffe layer names, and the net's forward
pass in plain torch ops, independent of the plugin's modules.

Caffe net: conv1 11x11/4 pad 100 (96), ReLU, pool 3x3/2 (rounding up), LRN(5, 1e-4,
0.75); conv2 5x5 pad 2 group 2 (256), ReLU, pool, LRN; conv3 3x3 pad 1 (384), ReLU;
conv4 3x3 pad 1 group 2 (384), ReLU; conv5 3x3 pad 1 group 2 (256), ReLU; pool5;
fc6 6x6 (4096), ReLU; fc7 1x1 (4096), ReLU; score_fr 1x1; upscore: a per-class
bilinear 63x63 deconvolution with stride 32, no bias; the score is upscore cropped at
offset 18 to the input size.
"""

import math
from collections import OrderedDict
from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor

#: (name, out channels, in channels per group, kernel, groups) of conv1..fc7.
BODY = (
    ('conv1', 96, 3, 11, 1),
    ('conv2', 256, 48, 5, 2),
    ('conv3', 384, 256, 3, 1),
    ('conv4', 384, 192, 3, 2),
    ('conv5', 256, 192, 3, 2),
)
UPSCORE_KERNEL, UPSCORE_STRIDE, CROP = 63, 32, 18


def surgery_bilinear(size: int) -> Tensor:
    """The reference's ``surgery.interp`` filter of ``size`` (odd: centred on pixel
    ``size // 2``), as a ``(size, size)`` tensor."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    ramp = [1 - abs(x - centre) / factor for x in range(size)]
    return torch.tensor([[a * b for b in ramp] for a in ramp], dtype=torch.float32)


def caffe_fcn_alexnet(
    generator: torch.Generator,
    num_classes: int = 21,
    fc_channels: int = 4096,
    fully_connected: bool = False,
) -> Dict[str, Tensor]:
    """Random weights under the reference layer names, scaled so that activations stay
    of the size of the input (He scaling), with biases too; ``upscore`` bilinear.

    ``fully_connected`` stores fc6/fc7 as the ImageNet net's matrices
    (``(F, 9216)``, ``(F, F)``) instead of conv kernels.
    """
    weights: Dict[str, Tensor] = OrderedDict()

    def add(name: str, shape: tuple) -> None:
        fan_in = math.prod(shape[1:])
        weights[name + '.weight'] = torch.randn(shape, generator=generator) * (2 / fan_in) ** 0.5
        weights[name + '.bias'] = torch.randn(shape[0], generator=generator) * 0.1

    for name, out_channels, in_channels, kernel, _ in BODY:
        add(name, (out_channels, in_channels, kernel, kernel))
    add('fc6', (fc_channels, 256, 6, 6))
    add('fc7', (fc_channels, fc_channels, 1, 1))
    add('score_fr', (num_classes, fc_channels, 1, 1))
    if fully_connected:
        weights['fc6.weight'] = weights['fc6.weight'].flatten(1)
        weights['fc7.weight'] = weights['fc7.weight'].flatten(1)
    upscore = torch.zeros(num_classes, num_classes, UPSCORE_KERNEL, UPSCORE_KERNEL)
    for index in range(num_classes):
        upscore[index, index] = surgery_bilinear(UPSCORE_KERNEL)
    weights['upscore.weight'] = upscore
    return weights


def lrn(x: Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75) -> Tensor:
    """Caffe's ACROSS_CHANNELS LRN: ``x / (1 + alpha / size * sum x^2) ** beta``, the sum
    over ``size`` channels centred on each channel, zeros past the ends."""
    squares = F.pad(x.pow(2), [0, 0, 0, 0, size // 2, size // 2])
    window = sum(squares[:, k : k + x.shape[1]] for k in range(size))
    return x / (1 + alpha / size * window).pow(beta)


def reference_logits(weights: Dict[str, Tensor], image: Tensor) -> Tensor:
    """Logits ``(N, C, H, W)`` of the reference net for a mean-subtracted BGR ``image``
    ``(N, 3, H, W)`` (test mode: dropout is the identity)."""
    x = image
    for name, _, _, kernel, groups in BODY:
        stride, pad = (4, 100) if name == 'conv1' else (1, kernel // 2)
        x = F.relu(
            F.conv2d(x, weights[name + '.weight'], weights[name + '.bias'], stride, pad, 1, groups)
        )
        if name in ('conv1', 'conv2'):
            x = lrn(F.max_pool2d(x, 3, 2, ceil_mode=True))
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    fc6 = weights['fc6.weight'].reshape(-1, 256, 6, 6)
    x = F.relu(F.conv2d(x, fc6, weights['fc6.bias']))
    fc7 = weights['fc7.weight'].reshape(fc6.shape[0], -1, 1, 1)
    x = F.relu(F.conv2d(x, fc7, weights['fc7.bias']))
    score = F.conv2d(x, weights['score_fr.weight'], weights['score_fr.bias'])
    up = F.conv_transpose2d(score, weights['upscore.weight'], stride=UPSCORE_STRIDE)
    height, width = image.shape[-2:]
    return up[..., CROP : CROP + height, CROP : CROP + width]
