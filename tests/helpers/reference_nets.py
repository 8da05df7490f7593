"""Random weights in the reference layouts and plain-PyTorch reference forwards.

The forward follows the layer list of the reference Caffe nets, written out here:
conv1_1 padded by 100, 3x3 convs padded by 1, 2x2/2 max pooling rounding up, fc6 a
7x7 conv without padding, fc7 1x1, score layers 1x1, upsampling by transposed convs
with full ``(C, C, k, k)`` weights, and Caffe's crops (32s: 19; 16s: 5, 27;
8s: 5, 9, 31), ending with a crop to the input size.
"""

from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

VGG16_BLOCKS = (2, 2, 3, 3, 3)
VGG16_WIDTHS = (64, 128, 256, 512, 512)
UPSCORES = {
    '32s': {'upscore': 64},
    '16s': {'upscore2': 4, 'upscore16': 32},
    '8s': {'upscore2': 4, 'upscore_pool4': 4, 'upscore8': 16},
}
SKIPS = {'32s': (), '16s': ('score_pool4',), '8s': ('score_pool4', 'score_pool3')}
SKIP_CHANNELS = {'score_pool3': 256, 'score_pool4': 512}
#: torchvision's VGG configurations: conv widths, 'M' for max pooling.
TORCHVISION_CFGS = {
    11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    19: [
        64,
        64,
        'M',
        128,
        128,
        'M',
        256,
        256,
        256,
        256,
        'M',
        512,
        512,
        512,
        512,
        'M',
        512,
        512,
        512,
        512,
        'M',
    ],
}


def he(shape, generator: torch.Generator) -> Tensor:
    """Random weights keeping activations of order 1 through ReLU layers."""
    fan_in = 1
    for size in shape[1:]:
        fan_in *= size
    return torch.randn(shape, generator=generator) * (2.0 / fan_in) ** 0.5


def caffe_vgg16(
    generator: torch.Generator, fc_channels: int = 4096, fc6_flat: bool = False
) -> Dict[str, Tensor]:
    """Random VGG16 weights in Caffe naming (conv1_1 .. conv5_3, fc6, fc7).

    ``fc_channels`` other than VGG16's 4096 gives a light net for quick tests.
    """
    weights: Dict[str, Tensor] = OrderedDict()
    in_channels = 3
    for block, (num_convs, width) in enumerate(zip(VGG16_BLOCKS, VGG16_WIDTHS)):
        for index in range(num_convs):
            name = f'conv{block + 1}_{index + 1}'
            weights[name + '.weight'] = he((width, in_channels, 3, 3), generator)
            weights[name + '.bias'] = 0.1 * torch.randn(width, generator=generator)
            in_channels = width
    fc6 = he((fc_channels, 512, 7, 7), generator)
    weights['fc6.weight'] = fc6.reshape(fc_channels, -1) if fc6_flat else fc6
    weights['fc6.bias'] = 0.1 * torch.randn(fc_channels, generator=generator)
    weights['fc7.weight'] = he((fc_channels, fc_channels, 1, 1), generator)
    weights['fc7.bias'] = 0.1 * torch.randn(fc_channels, generator=generator)
    return weights


def bilinear_upscore(num_classes: int, kernel: int) -> Tensor:
    """``(C, C, k, k)`` weights upsampling each class bilinearly (Caffe's filler)."""
    factor = (kernel + 1) // 2
    centre = factor - 1 if kernel % 2 == 1 else factor - 0.5
    ramp = 1 - (torch.arange(kernel, dtype=torch.float64) - centre).abs() / factor
    weight = torch.zeros(num_classes, num_classes, kernel, kernel)
    weight[range(num_classes), range(num_classes)] = torch.outer(ramp, ramp).float()
    return weight


def fcn_head(
    variant: str,
    num_classes: int,
    generator: torch.Generator,
    learned_upscores: bool = False,
    fc_channels: int = 4096,
) -> Dict[str, Tensor]:
    """Random score layers and upsampling weights of an FCN variant ('32s'/'16s'/'8s').

    With ``learned_upscores`` the upsampling weights are bilinear kernels plus noise
    (on and off the diagonal), as if learned.
    """
    weights: Dict[str, Tensor] = OrderedDict()
    for name, channels in [('score_fr', fc_channels)] + [
        (s, SKIP_CHANNELS[s]) for s in SKIPS[variant]
    ]:
        weights[name + '.weight'] = he((num_classes, channels, 1, 1), generator)
        weights[name + '.bias'] = torch.randn(num_classes, generator=generator)
    for name, kernel in UPSCORES[variant].items():
        weight = bilinear_upscore(num_classes, kernel)
        if learned_upscores:
            weight = weight + 0.05 * torch.randn(weight.shape, generator=generator)
        weights[name + '.weight'] = weight
    return weights


def _crop(x: Tensor, offset: int, like: Tensor) -> Tensor:
    """Caffe's Crop layer on axes 2, 3: ``x`` cut to ``like``'s size at ``offset``."""
    height, width = like.shape[-2:]
    return x[..., offset : offset + height, offset : offset + width]


def caffe_vgg16_features(weights: Dict[str, Tensor], image: Tensor) -> Dict[str, Tensor]:
    """pool3, pool4 and fc7 of the reference net (Caffe layer names) for ``image``."""
    h = image
    features = {}
    for block, num_convs in enumerate(VGG16_BLOCKS):
        for index in range(num_convs):
            name = f'conv{block + 1}_{index + 1}'
            h = F.relu(_conv(weights, name, h, padding=100 if name == 'conv1_1' else 1))
        h = F.max_pool2d(h, 2, stride=2, ceil_mode=True)
        features[f'pool{block + 1}'] = h
    h = F.relu(_conv(weights, 'fc6', h))
    features['fc7'] = F.relu(_conv(weights, 'fc7', h))
    return features


def caffe_fcn_head(
    weights: Dict[str, Tensor],
    features: Dict[str, Tensor],
    image: Tensor,
    variant: str,
    skip_scales: Optional[Dict[str, float]] = None,
) -> Tensor:
    """Scores ``(N, C, H, W)`` of the reference FCN for ``image`` ``(N, 3, H, W)``.

    Args:
        weights: Reference state dict (Caffe layer names).
        features: ``caffe_vgg16_features(weights, image)``.
        image: The preprocessed input (only its size is used).
        variant: '32s', '16s' or '8s'.
        skip_scales: Factors applied to pool4/pool3 before scoring them (at-once),
            keyed 'score_pool4'/'score_pool3'.
    """
    scales = skip_scales or {}

    def up(name: str, x: Tensor) -> Tensor:
        weight = weights[name + '.weight']
        return F.conv_transpose2d(x, weight, stride=weight.shape[-1] // 2)

    def skip(name: str, pool: str) -> Tensor:
        return _conv(weights, name, features[pool] * scales.get(name, 1.0))

    score = _conv(weights, 'score_fr', features['fc7'])
    if variant == '32s':
        return _crop(up('upscore', score), 19, image)
    upscore2 = up('upscore2', score)
    fuse_pool4 = upscore2 + _crop(skip('score_pool4', 'pool4'), 5, upscore2)
    if variant == '16s':
        return _crop(up('upscore16', fuse_pool4), 27, image)
    upscore_pool4 = up('upscore_pool4', fuse_pool4)
    fuse_pool3 = upscore_pool4 + _crop(skip('score_pool3', 'pool3'), 9, upscore_pool4)
    return _crop(up('upscore8', fuse_pool3), 31, image)


def _conv(weights: Dict[str, Tensor], name: str, x: Tensor, padding: int = 0) -> Tensor:
    return F.conv2d(x, weights[name + '.weight'], weights[name + '.bias'], padding=padding)


def torchvision_layers(depth: int, with_norm: bool) -> List[Tuple[str, int]]:
    """``(kind, width)`` of each entry of torchvision's ``VGG.features``.

    Kinds: 'conv', 'bn', 'relu', 'pool'; written out from torchvision's VGG
    configurations, independently of the converter.
    """
    layers: List[Tuple[str, int]] = []
    for width in TORCHVISION_CFGS[depth]:
        if width == 'M':
            layers.append(('pool', 0))
            continue
        layers.append(('conv', width))
        if with_norm:
            layers.append(('bn', width))
        layers.append(('relu', width))
    return layers


def torchvision_vgg(depth, with_norm, fc_channels=64, seed=0, convs=None):
    """A torchvision-layout VGG state dict; ``convs`` reuses given conv weights."""
    generator = torch.Generator().manual_seed(seed)
    weights = OrderedDict()
    in_channels, position = 3, 0
    for index, (kind, width) in enumerate(torchvision_layers(depth, with_norm)):
        name = f'features.{index}'
        if kind == 'conv':
            if convs is None:
                weights[name + '.weight'] = he((width, in_channels, 3, 3), generator)
                weights[name + '.bias'] = 0.1 * torch.randn(width, generator=generator)
            else:
                weights[name + '.weight'], weights[name + '.bias'] = convs[position]
            in_channels, position = width, position + 1
        elif kind == 'bn':
            weights[name + '.weight'] = 0.5 + torch.rand(width, generator=generator)
            weights[name + '.bias'] = 0.1 * torch.randn(width, generator=generator)
            weights[name + '.running_mean'] = 0.1 * torch.randn(width, generator=generator)
            weights[name + '.running_var'] = 0.5 + torch.rand(width, generator=generator)
            weights[name + '.num_batches_tracked'] = torch.tensor(7)
    for name, shape in [
        ('classifier.0', (fc_channels, 512 * 49)),
        ('classifier.3', (fc_channels, fc_channels)),
        ('classifier.6', (1000, fc_channels)),
    ]:
        weights[name + '.weight'] = he(shape, generator)
        weights[name + '.bias'] = 0.1 * torch.randn(shape[0], generator=generator)
    return weights


def reference_vgg(weights, depth, with_norm, image):
    """torchvision's VGG forward: features, then fc6/fc7 on the flattened pool5.

    Returns pool5 ``(N, 512, H/32, W/32)`` and fc7 ``(N, F)``.
    """
    h = image
    for index, (kind, _) in enumerate(torchvision_layers(depth, with_norm)):
        name = f'features.{index}'
        if kind == 'conv':
            h = F.conv2d(h, weights[name + '.weight'], weights[name + '.bias'], padding=1)
        elif kind == 'bn':
            h = F.batch_norm(
                h,
                weights[name + '.running_mean'],
                weights[name + '.running_var'],
                weights[name + '.weight'],
                weights[name + '.bias'],
            )
        elif kind == 'relu':
            h = F.relu(h)
        else:
            h = F.max_pool2d(h, 2, stride=2)
    fc6 = F.relu(
        F.linear(h.flatten(1), weights['classifier.0.weight'], weights['classifier.0.bias'])
    )
    fc7 = F.relu(F.linear(fc6, weights['classifier.3.weight'], weights['classifier.3.bias']))
    return h, fc7


#: The streams of the released colour-HHA late fusion net (layer name suffixes), in the
#: order of the input's channels.
COLOUR_HHA = ('color', 'hha')


def two_stream_fcn32s(
    generator: torch.Generator,
    num_classes: int,
    fc_channels: int = 4096,
    suffixes: Tuple[str, ...] = COLOUR_HHA,
) -> Dict[str, Tensor]:
    """Random weights of the two-stream FCN-32s in Caffe naming: per stream ``s`` a
    VGG16 ``conv1_1<s>`` .. ``fc7<s>`` and ``score_fr<s>``, and one shared bilinear
    ``upscore`` (k64)."""
    weights: Dict[str, Tensor] = OrderedDict()
    for suffix in suffixes:
        stream = dict(caffe_vgg16(generator, fc_channels=fc_channels))
        stream['score_fr.weight'] = he((num_classes, fc_channels, 1, 1), generator)
        stream['score_fr.bias'] = torch.randn(num_classes, generator=generator)
        for key, value in stream.items():
            layer, param = key.split('.')
            weights[f'{layer}{suffix}.{param}'] = value
    weights['upscore.weight'] = bilinear_upscore(num_classes, 64)
    return weights


def caffe_two_stream_fcn32s(
    weights: Dict[str, Tensor],
    image: Tensor,
    fuse_weights: Tuple[float, ...] = (0.5, 0.5),
    suffixes: Tuple[str, ...] = COLOUR_HHA,
) -> Tensor:
    """Scores ``(N, C, H, W)`` of the reference two-stream FCN-32s for ``image``
    ``(N, 3 * streams, H, W)`` (colour's channels first), as its net definition runs:
    each stream's VGG16 (conv1_1 padded by 100) on its 3 channels, ``score_fr<s>`` on
    its fc7, ``score_fused`` = the weighted sum of the score maps, one ``upscore``
    (k64 s32) and the crop (offset 19) to the colour input."""
    fused = None
    for index, (suffix, weight) in enumerate(zip(suffixes, fuse_weights)):
        stream = {}
        for key, value in weights.items():
            layer, param = key.split('.')
            if layer.endswith(suffix):
                stream[f'{layer[: -len(suffix)]}.{param}'] = value
        channels = image[:, 3 * index : 3 * index + 3]
        score = _conv(stream, 'score_fr', caffe_vgg16_features(stream, channels)['fc7'])
        fused = weight * score if fused is None else fused + weight * score
    upscore = weights['upscore.weight']
    return _crop(F.conv_transpose2d(fused, upscore, stride=upscore.shape[-1] // 2), 19, image)


def suffixed(weights: Dict[str, Tensor], suffix: str) -> Dict[str, Tensor]:
    """Head weights with their layers renamed ``<layer>_<suffix>`` (SIFT Flow's nets)."""
    out: Dict[str, Tensor] = OrderedDict()
    for key, value in weights.items():
        layer, param = key.rsplit('.', 1)
        out[f'{layer}_{suffix}.{param}'] = value
    return out


def siftflow_weights(
    body: Dict[str, Tensor], variant: str, generator: torch.Generator, fc_channels: int = 4096
) -> Dict[str, Tensor]:
    """A SIFT Flow FCN in the reference names: ``body`` (``caffe_vgg16``) and two random
    heads of ``variant``, 33 classes suffixed ``_sem`` and 3 suffixed ``_geo``."""
    weights = OrderedDict(body)
    for suffix, num_classes in (('sem', 33), ('geo', 3)):
        head = fcn_head(variant, num_classes, generator, fc_channels=fc_channels)
        weights.update(suffixed(head, suffix))
    return weights


def caffe_siftflow_scores(
    weights: Dict[str, Tensor], image: Tensor, variant: str
) -> Tuple[Tensor, Tensor]:
    """Semantic ``(N, 33, H, W)`` and geometric ``(N, 3, H, W)`` scores of the reference
    SIFT Flow net: the body once, then each suffix's head as the VOC net's."""
    features = caffe_vgg16_features(weights, image)
    scores = []
    for suffix in ('sem', 'geo'):
        ending = f'_{suffix}'
        head = {
            layer[: -len(ending)] + '.' + param: value
            for layer, param, value in (
                (*key.rsplit('.', 1), value) for key, value in weights.items()
            )
            if layer.endswith(ending)
        }
        scores.append(caffe_fcn_head(head, features, image, variant))
    return scores[0], scores[1]
