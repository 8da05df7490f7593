"""The reference FCN nets (Caffe layer names) to a checkpoint of the plugin's model.

The released FCN-32s/16s/8s weights of Long, Shelhamer and Darrell, in Caffe's layer
names (also the state-dict keys of the best-known PyTorch port), map onto
``FullyConvVGG(pad_mode='caffe')`` + ``FCNSkipHead(pad_mode='caffe')`` as built by
``configs/fcn_skip_caffe/fcn*_vgg16-caffe_1xb1-*_seg11valid-fullsize.py``:

======================================= =============================================
reference layer                         plugin key
======================================= =============================================
conv{b}_{c}                             backbone.blocks.{b-1}.{c-1}.conv
fc6, fc7                                backbone.fc6.conv, backbone.fc7.conv
score_fr                                decode_head.conv_seg
score_pool4 (16s, 8s), score_pool3 (8s) decode_head.skip_scores.stride16, .stride8
upscore2, upscore_pool4                 decode_head.fuse_upsamples.stride32, .stride16
upscore (32s), upscore16, upscore8      decode_head.final_upsample
======================================= =============================================

The head's layers are named by the stride of their level (see
``models.fusion_plan.level_key``), so the same reference layer has the same key in
every variant.

The reference keeps its upsampling fixed at per-class bilinear kernels. The plugin
rebuilds those kernels itself (they are not in its state dicts), so bilinear
``upscore*`` weights are checked and dropped. Learned ones (as in the CVPR-era
models) need ``learn_upsample=True``: they then become the head's learnable
upsampling weights, for a config with ``decode_head.learn_upsample=True``.

FCN-8s and FCN-8s at-once have the same learned layers; at-once also scales pool4
and pool3 by 0.01 and 0.0001 before scoring them. The Caffe net does this with fixed
``Scale`` layers, whose blobs ``scale_pool4``/``scale_pool3`` (one factor per
channel) are in its .caffemodel: with them the variant is read as ``'8s-atonce'``
(and the factors are checked against the config's ``skip_scales``). Ports that scale
in code have no such keys; their at-once weights read as ``'8s'``, so name the
variant ``'8s-atonce'`` for them.
"""

from collections import OrderedDict
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

import torch
from mmseg.datasets import PascalVOCDataset
from torch import Tensor

from ...models.fusion_plan import level_key
from ...models.utils.upsample import bilinear_kernel
from .common import StateDict, check_keys
from .vgg import caffe_vgg_keys, caffe_vgg_to_mmseg

VARIANTS = ('32s', '16s', '8s', '8s-atonce')
#: Fixed factors of at-once FCN-8s's Scale layers (``skip_scales`` of its config).
AT_ONCE_SCALES = {'scale_pool3': 0.0001, 'scale_pool4': 0.01}
#: Largest deviation from the bilinear kernel still taken as bilinear.
BILINEAR_ATOL = 1e-5
#: Channels of the VGG16 pool levels the skip score layers read.
POOL_CHANNELS = {'score_pool3': 256, 'score_pool4': 512}
#: Stride of the level each reference score layer scores.
SCORE_STRIDES = {'score_pool3': 8, 'score_pool4': 16}
#: Stride each reference fusion upsampling upsamples from.
UPSCORE_STRIDES = {'upscore2': 32, 'upscore_pool4': 16}
#: Config that builds each variant's net (test on seg11valid, reference recipe), by
#: its path below ``configs/`` (shipped in the package, see ``utils.packaged_config``).
CONFIGS = {
    '32s': 'fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
    '16s': 'fcn_skip_caffe/fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
    '8s': 'fcn_skip_caffe/fcn8s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
    '8s-atonce': 'fcn_skip_caffe/fcn8s-atonce_vgg16-caffe_1xb1-300k_seg11valid-fullsize.py',
}


class HeadLayout(NamedTuple):
    """Layer names of one FCN variant's head, in ``FCNSkipHead``'s order.

    Attributes:
        skip_scores (tuple[str]): Skip score layers, finest level first.
        fuse_upscores (tuple[str]): x2 upsampling layers, deepest first.
        final_upscore (str): The last upsampling layer.
        final_factor (int): Its upsampling factor.
    """

    skip_scores: Tuple[str, ...]
    fuse_upscores: Tuple[str, ...]
    final_upscore: str
    final_factor: int


HEAD_LAYOUTS = {
    '32s': HeadLayout((), (), 'upscore', 32),
    '16s': HeadLayout(('score_pool4',), ('upscore2',), 'upscore16', 16),
    '8s': HeadLayout(('score_pool3', 'score_pool4'), ('upscore2', 'upscore_pool4'), 'upscore8', 8),
}
HEAD_LAYOUTS['8s-atonce'] = HEAD_LAYOUTS['8s']


def detect_fcn_variant(keys: Mapping) -> str:
    """The FCN variant whose score (and scale) layers ``keys`` has.

    ``'8s-atonce'`` needs the Caffe ``scale_pool3``/``scale_pool4`` keys; at-once
    weights without them read as ``'8s'``.
    """
    if 'score_pool3.weight' in keys:
        return '8s-atonce' if 'scale_pool3.weight' in keys else '8s'
    if 'score_pool4.weight' in keys:
        return '16s'
    return '32s'


def caffe_fcn_to_mmseg(
    state_dict: StateDict, variant: Optional[str] = None, learn_upsample: bool = False
) -> Tuple[StateDict, str]:
    """Convert a reference FCN state dict into the plugin model's state dict.

    Args:
        state_dict (dict[str, Tensor]): ``conv1_1`` .. ``conv5_3``, ``fc6``
            ``(4096, 512, 7, 7)``, ``fc7`` ``(4096, 4096, 1, 1)`` (fully connected
            shapes are reshaped too), ``score_fr`` ``(C, 4096, 1, 1)``,
            ``score_pool4`` ``(C, 512, 1, 1)`` (16s, 8s), ``score_pool3``
            ``(C, 256, 1, 1)`` (8s), each with ``.weight`` and ``.bias``; upsampling
            weights ``(C, C, 2f, 2f)`` without bias: ``upscore`` (32s, f=32),
            ``upscore2`` (f=2) + ``upscore16`` (16s, f=16), ``upscore2`` +
            ``upscore_pool4`` (f=2) + ``upscore8`` (8s, f=8). fc6/fc7 may be
            narrower than 4096 (the backbone's ``fc_channels``). At-once FCN-8s from a
            caffemodel also has ``scale_pool4.weight`` ``(512,)`` and
            ``scale_pool3.weight`` ``(256,)``.
        variant (str, optional): One of ``VARIANTS``, checked against the keys.
            Default: read from the keys (see ``detect_fcn_variant``).
        learn_upsample (bool): Keep the upsampling weights as learnable weights
            (for a config with ``decode_head.learn_upsample=True``) instead of
            checking that they are bilinear and dropping them. Default: False.

    Returns:
        tuple: The state dict (``backbone.*`` and ``decode_head.*`` keys) and the
        variant.

    Raises:
        KeyError: if keys are missing or unknown for the variant.
        ValueError: if the variant is unknown or contradicts the keys, a shape is
            wrong, or an upsampling weight is not bilinear and ``learn_upsample``
            is False.
    """
    key_variant = detect_fcn_variant(state_dict)
    variant = _check_variant(variant, key_variant)
    layout = HEAD_LAYOUTS[key_variant]
    check_keys(state_dict, fcn_keys(key_variant), f'a Caffe FCN-{key_variant}')
    if key_variant == '8s-atonce':
        _check_at_once_scales(state_dict)
    backbone_keys = caffe_vgg_keys(16)
    backbone, _ = caffe_vgg_to_mmseg({k: state_dict[k] for k in backbone_keys})
    out: StateDict = OrderedDict(('backbone.' + k, v) for k, v in backbone.items())

    num_classes = state_dict['score_fr.weight'].shape[0]
    in_channels = dict(POOL_CHANNELS, score_fr=state_dict['fc7.weight'].shape[0])
    scores = [('conv_seg', 'score_fr')] + [
        (f'skip_scores.{level_key(SCORE_STRIDES[name])}', name) for name in layout.skip_scores
    ]
    for key, name in scores:
        _check_score(state_dict, name, in_channels[name], num_classes)
        out[f'decode_head.{key}.weight'] = state_dict[name + '.weight']
        out[f'decode_head.{key}.bias'] = state_dict[name + '.bias']

    upscores = _upscore_weights(state_dict, layout, num_classes)
    if learn_upsample:
        for key, (_, weight) in upscores.items():
            out[f'decode_head.{key}.weight'] = weight
    else:
        learned = [name for name, weight in upscores.values() if not is_bilinear_upscore(weight)]
        if learned:
            raise ValueError(
                f'the upsampling weights of {learned} are not per-class bilinear '
                'kernels (they were learned), but the plugin rebuilds fixed bilinear '
                'ones; convert with --learn-upsample (learn_upsample=True) and test '
                'with a config setting decode_head.learn_upsample=True'
            )
    return out, variant


def fcn_keys(variant: str) -> List[str]:
    """Every key of a reference FCN state dict of the variant (see ``VARIANTS``).

    For ``'8s-atonce'`` these include the keys of its Scale layers.
    """
    layout = HEAD_LAYOUTS[variant]
    keys = caffe_vgg_keys(16)
    for name in ('score_fr',) + layout.skip_scores:
        keys += [name + '.weight', name + '.bias']
    upscores = layout.fuse_upscores + (layout.final_upscore,)
    keys += [name + '.weight' for name in upscores]
    if variant == '8s-atonce':
        keys += [name + '.weight' for name in AT_ONCE_SCALES]
    return keys


def is_bilinear_upscore(weight: Tensor) -> bool:
    """Whether ``weight`` ``(C, C, k, k)`` upsamples each channel bilinearly.

    That is: ``bilinear_kernel(k)`` on the diagonal ``weight[i, i]`` and zeros
    elsewhere, within ``BILINEAR_ATOL``.
    """
    channels, kernel = weight.shape[0], weight.shape[-1]
    expected = torch.zeros(weight.shape)
    expected[range(channels), range(channels)] = bilinear_kernel(kernel)
    return torch.allclose(weight.float(), expected, rtol=0, atol=BILINEAR_ATOL)


def fcn_meta(state_dict: StateDict, variant: str, learn_upsample: bool) -> dict:
    """Checkpoint ``meta`` for a converted FCN: what it is and which config runs it.

    Args:
        state_dict (dict[str, Tensor]): The converted state dict.
        variant (str): Its variant.
        learn_upsample (bool): Whether the upsampling weights were kept.

    Returns:
        dict: Plain values: source, variant, number of classes, fc width, whether the
        upsampling is learnable, the config to use (its path in the repository,
        also below the package's ``.mim``), and with 21 classes (PASCAL VOC)
        mmseg's ``dataset_meta`` (class names and palette), which
        ``mmseg.apis.init_model`` attaches to the model.
    """
    num_classes = state_dict['decode_head.conv_seg.weight'].shape[0]
    meta = dict(
        source=f'reference Caffe FCN-{variant} (Long, Shelhamer, Darrell)',
        variant=variant,
        num_classes=num_classes,
        fc_channels=state_dict['backbone.fc7.conv.weight'].shape[0],
        learn_upsample=learn_upsample,
        config='configs/' + CONFIGS[variant],
    )
    voc = PascalVOCDataset.METAINFO
    if num_classes == len(voc['classes']):
        meta['dataset_meta'] = dict(
            classes=tuple(voc['classes']), palette=[list(p) for p in voc['palette']]
        )
    return meta


def _check_variant(variant: Optional[str], key_variant: str) -> str:
    if variant is None:
        return key_variant
    if variant not in VARIANTS:
        raise ValueError(f'variant={variant!r} is not supported; use one of {VARIANTS}')
    if variant != key_variant and (variant, key_variant) != ('8s-atonce', '8s'):
        raise ValueError(
            f'variant={variant!r} was asked for, but the keys are those of '
            f'FCN-{key_variant}; drop the variant or pick the right file'
        )
    return variant


def _check_at_once_scales(state_dict: StateDict) -> None:
    for name, factor in AT_ONCE_SCALES.items():
        weight = state_dict[name + '.weight']
        if not torch.allclose(weight.float(), torch.full(weight.shape, factor), rtol=1e-5, atol=0):
            raise ValueError(
                f'{name}.weight is not the constant {factor} of at-once FCN-8s (found '
                f'values in [{weight.min().item():g}, {weight.max().item():g}]); the '
                "config's decode_head.skip_scales must hold the net's factors"
            )


def _check_score(state_dict: StateDict, name: str, in_channels: int, num_classes: int) -> None:
    shapes = {
        name + '.weight': (num_classes, in_channels, 1, 1),
        name + '.bias': (num_classes,),
    }
    for key, shape in shapes.items():
        if tuple(state_dict[key].shape) != shape:
            raise ValueError(
                f'{key} has shape {tuple(state_dict[key].shape)}; with '
                f'{num_classes} classes (score_fr) it must be {shape}'
            )


def _upscore_weights(
    state_dict: StateDict, layout: HeadLayout, num_classes: int
) -> Dict[str, Tuple[str, Tensor]]:
    """Upsampling weights by head key: ``{key: (reference name, weight)}``."""
    layers = {
        f'fuse_upsamples.{level_key(UPSCORE_STRIDES[name])}': (name, 2)
        for name in layout.fuse_upscores
    }
    layers['final_upsample'] = (layout.final_upscore, layout.final_factor)
    weights = {}
    for key, (name, factor) in layers.items():
        weight = state_dict[name + '.weight']
        shape = (num_classes, num_classes, 2 * factor, 2 * factor)
        if tuple(weight.shape) != shape:
            raise ValueError(
                f'{name}.weight has shape {tuple(weight.shape)}; the x'
                f'{factor} upsampling of {num_classes} classes is {shape}'
            )
        weights[key] = (name, weight)
    return weights
