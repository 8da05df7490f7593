"""The reference FCN-AlexNet (Caffe layer names) to a checkpoint of the plugin's model.

The released ``fcn-alexnet-pascal`` net of Long, Shelhamer and Darrell is an FCN-32s
on CaffeNet. Its layers map onto ``FullyConvAlexNet(pad_mode='caffe')`` +
``FCNSkipHead(pad_mode='caffe', backbone_type='FullyConvAlexNet')`` as built by
``configs/fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py``:

=================== ====================================
reference layer     plugin key
=================== ====================================
conv1 .. conv5      backbone.conv1.conv .. backbone.conv5.conv
fc6, fc7            backbone.fc6.conv, backbone.fc7.conv
score_fr            decode_head.conv_seg
upscore             decode_head.final_upsample (63x63, stride 32)
=================== ====================================

It converts differently from the VGG16 nets: the body has five single convs (conv2,
conv4 and conv5 in two groups, whose weights hold half the input channels), fc6 reads
a 6x6 window of pool5 (``(F, 256 * 6 * 6)`` when fully connected), and ``upscore`` is
a 63x63 kernel (the odd ``2 * 32 - 1``: fc7 lies on whole input pixels, so the
upsampling is centred on them). As for the VGG nets, a bilinear ``upscore`` is checked
and dropped (the plugin rebuilds it) unless ``learn_upsample`` keeps it.
"""

from collections import OrderedDict
from typing import Mapping, Optional, Tuple

from mmseg.datasets import PascalVOCDataset
from torch import Tensor

from ...models.backbones.fully_conv_alexnet import CONV_CHANNELS, CONV_GROUPS, LEVELS
from ...models.fusion_plan import FusionPlan
from .common import StateDict, check_keys, fc_as_conv
from .fcn import is_bilinear_upscore

SOURCE = 'a Caffe FCN-AlexNet'
#: The reference net's layers with weights, in order (``upscore`` has no bias).
CONVS = tuple(f'conv{k}' for k in range(1, 6))
LAYERS = CONVS + ('fc6', 'fc7', 'score_fr', 'upscore')
#: The one variant: fc7 scored and upsampled by 32.
VARIANT = '32s'
CONFIG = 'configs/fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py'


def is_alexnet_fcn(keys: Mapping) -> bool:
    """Whether a reference FCN state dict has the AlexNet body (``conv1``, not
    VGG16's ``conv1_1``)."""
    return 'conv1.weight' in keys and 'score_fr.weight' in keys


def alexnet_fcn_keys() -> list:
    """Every key of the reference FCN-AlexNet state dict."""
    blobs = {name: ('weight',) if name == 'upscore' else ('weight', 'bias') for name in LAYERS}
    return [f'{name}.{blob}' for name in LAYERS for blob in blobs[name]]


def caffe_fcn_alexnet_to_mmseg(
    state_dict: StateDict, variant: Optional[str] = None, learn_upsample: bool = False
) -> Tuple[StateDict, str]:
    """Convert the reference FCN-AlexNet state dict into the plugin model's state dict.

    Args:
        state_dict (dict[str, Tensor]): ``conv1`` ``(96, 3, 11, 11)``, ``conv2``
            ``(256, 48, 5, 5)``, ``conv3`` ``(384, 256, 3, 3)``, ``conv4``
            ``(384, 192, 3, 3)``, ``conv5`` ``(256, 192, 3, 3)``, ``fc6``
            ``(F, 256, 6, 6)`` or ``(F, 9216)``, ``fc7`` ``(F, F, 1, 1)`` or
            ``(F, F)``, ``score_fr`` ``(C, F, 1, 1)``, each with ``.weight`` and
            ``.bias``, and ``upscore.weight`` ``(C, C, 63, 63)`` (or ``(C, 1, 63,
            63)`` from a per-class ``group: C`` Deconvolution). fc6/fc7 may be
            narrower than 4096 (the backbone's ``fc_channels``).
        variant (str, optional): ``'32s'`` or None, the only variant released.
        learn_upsample (bool): Keep ``upscore`` as the head's learnable upsampling
            weight instead of checking that it is bilinear and dropping it.
            Default: False.

    Returns:
        tuple: The state dict (``backbone.*`` and ``decode_head.*`` keys) and
        ``'32s'``.

    Raises:
        KeyError: if keys are missing or unknown.
        ValueError: if the variant is not ``'32s'``, a shape is not the net's, or
            ``upscore`` is not bilinear and ``learn_upsample`` is False.
    """
    if variant not in (None, VARIANT):
        raise ValueError(
            f'variant={variant!r} was asked for, but FCN-AlexNet was released as an '
            f'FCN-{VARIANT} only; drop the variant'
        )
    check_keys(state_dict, alexnet_fcn_keys(), SOURCE)
    out: StateDict = OrderedDict()
    in_channels = 3
    for name, width, groups in zip(CONVS, CONV_CHANNELS, CONV_GROUPS):
        kernel = LEVELS.window(name).kernel
        _check_shape(state_dict, name, (width, in_channels // groups, kernel, kernel))
        out[f'backbone.{name}.conv.weight'] = state_dict[name + '.weight']
        out[f'backbone.{name}.conv.bias'] = state_dict[name + '.bias']
        in_channels = width
    fc6_kernel = LEVELS.window('fc6').kernel
    fc6 = fc_as_conv('fc6.weight', state_dict['fc6.weight'], in_channels, fc6_kernel)
    fc_channels = fc6.shape[0]
    fc7 = fc_as_conv('fc7.weight', state_dict['fc7.weight'], fc_channels, 1)
    if fc7.shape[0] != fc_channels:
        raise ValueError(
            f'fc7.weight has shape {tuple(state_dict["fc7.weight"].shape)}; after fc6 of '
            f'{fc_channels} channels it must be ({fc_channels}, {fc_channels}[, 1, 1])'
        )
    for name, weight in (('fc6', fc6), ('fc7', fc7)):
        _check_bias(state_dict, name, fc_channels)
        out[f'backbone.{name}.conv.weight'] = weight
        out[f'backbone.{name}.conv.bias'] = state_dict[name + '.bias']
    score = state_dict['score_fr.weight']
    num_classes = score.shape[0]
    _check_shape(state_dict, 'score_fr', (num_classes, fc_channels, 1, 1))
    out['decode_head.conv_seg.weight'] = score
    out['decode_head.conv_seg.bias'] = state_dict['score_fr.bias']
    kernel = upscore_kernel()
    upscore = state_dict['upscore.weight']
    if tuple(upscore.shape) == (num_classes, 1, kernel, kernel):
        # A per-class (group=C) Deconvolution stores one kernel per class.
        upscore = diagonal_upscore(upscore)
    _check_shape(
        dict(state_dict, **{'upscore.weight': upscore}),
        'upscore',
        (num_classes, num_classes, kernel, kernel),
    )
    if learn_upsample:
        out['decode_head.final_upsample.weight'] = upscore
    elif not is_bilinear_upscore(upscore):
        raise ValueError(
            'the upsampling weights of upscore are not per-class bilinear kernels (they '
            'were learned), but the plugin rebuilds fixed bilinear ones; convert with '
            '--learn-upsample (learn_upsample=True) and test with a config setting '
            'decode_head.learn_upsample=True'
        )
    return out, VARIANT


def upscore_kernel() -> int:
    """Kernel of the head's final upsampling on ``FullyConvAlexNet(pad_mode='caffe')``'s
    fc7, as the head derives it from the level description: 63 (``2 * 32 - 1``, since
    fc7 lies on whole input pixels), the released ``upscore``'s."""
    final = FusionPlan(1, pad_mode='caffe', backbone_type=LEVELS).final
    return 2 * final.factor - 1 if final.align_corners else 2 * final.factor


def diagonal_upscore(weight: Tensor) -> Tensor:
    """A per-class upsampling weight ``(C, 1, k, k)`` as the full ``(C, C, k, k)``
    (the kernel of class ``i`` at ``[i, i]``, zeros elsewhere)."""
    channels = weight.shape[0]
    full = weight.new_zeros((channels, channels) + tuple(weight.shape[2:]))
    full[range(channels), range(channels)] = weight[:, 0]
    return full


def alexnet_fcn_meta(state_dict: StateDict, learn_upsample: bool) -> dict:
    """Checkpoint ``meta`` for a converted FCN-AlexNet (as ``fcn.fcn_meta``): source,
    variant, classes, fc width, learnable upsampling, the config to use, and with 21
    classes (PASCAL VOC) mmseg's ``dataset_meta`` (class names and palette)."""
    num_classes = state_dict['decode_head.conv_seg.weight'].shape[0]
    meta = dict(
        source='reference Caffe FCN-AlexNet (Long, Shelhamer, Darrell)',
        variant=VARIANT,
        backbone='FullyConvAlexNet',
        num_classes=num_classes,
        fc_channels=state_dict['backbone.fc7.conv.weight'].shape[0],
        learn_upsample=learn_upsample,
        config=CONFIG,
    )
    voc = PascalVOCDataset.METAINFO
    if num_classes == len(voc['classes']):
        meta['dataset_meta'] = dict(
            classes=tuple(voc['classes']), palette=[list(p) for p in voc['palette']]
        )
    return meta


def _check_shape(state_dict: StateDict, name: str, shape: tuple) -> None:
    weight: Tensor = state_dict[name + '.weight']
    if tuple(weight.shape) != tuple(shape):
        raise ValueError(
            f'{name}.weight has shape {tuple(weight.shape)}; FCN-AlexNet (CaffeNet '
            f'widths {CONV_CHANNELS}, groups {CONV_GROUPS}) needs {tuple(shape)}'
        )
    if name != 'upscore':
        _check_bias(state_dict, name, shape[0])


def _check_bias(state_dict: StateDict, name: str, channels: int) -> None:
    bias = state_dict[name + '.bias']
    if tuple(bias.shape) != (channels,):
        raise ValueError(f'{name}.bias has shape {tuple(bias.shape)}; it must be ({channels},)')
