"""ImageNet VGG weights (torchvision or Caffe layout) to a ``FullyConvVGG`` checkpoint.

The two layouts hold the same kind of net but expect different inputs:

- torchvision: RGB in 0..1 normalised by the ImageNet mean/std; in mmseg's
  ``SegDataPreProcessor``: ``bgr_to_rgb=True, mean=[123.675, 116.28, 103.53],
  std=[58.395, 57.12, 57.375]`` (``configs/_base_/models/fcn8s_vgg16.py``).
- Caffe: BGR, 0..255, minus the mean pixel; ``bgr_to_rgb=False,
  mean=[104.00699, 116.66877, 122.67892], std=[1, 1, 1]`` (``configs/fcn_skip_caffe/``).
  The first conv's input channels stay in BGR order.

The classifier's last layer (torchvision ``classifier.6``, Caffe ``fc8``) scores the
1000 ImageNet classes and is dropped.
"""

import re
from typing import Dict, List, Tuple

from ...models.backbones.fully_conv_vgg import VGG_BLOCKS
from .common import (
    ConvParams,
    StateDict,
    check_keys,
    depth_from_block_sizes,
    vgg_backbone_state_dict,
)

TORCHVISION = 'a torchvision VGG'
CAFFE = 'a Caffe VGG'
#: ``SegDataPreProcessor`` settings matching the input each kind of weights expects.
TORCHVISION_PREPROCESSOR = dict(
    bgr_to_rgb=True, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]
)
CAFFE_PREPROCESSOR = dict(
    bgr_to_rgb=False, mean=[104.00699, 116.66877, 122.67892], std=[1.0, 1.0, 1.0]
)
#: Fully connected layers of torchvision's VGG classifier: fc6, fc7, fc8.
TORCHVISION_FC = ('classifier.0', 'classifier.3', 'classifier.6')
NORM_TENSORS = ('weight', 'bias', 'running_mean', 'running_var')
_FEATURE_KEY = re.compile(r'features\.(\d+)\.weight')
_CAFFE_CONV_KEY = re.compile(r'conv(\d+)_(\d+)\.weight')


def torchvision_vgg_to_mmseg(state_dict: StateDict) -> Tuple[StateDict, int, bool]:
    """Convert torchvision's ``vgg11`` .. ``vgg19`` or ``vgg*_bn`` weights.

    torchvision's ``features`` list holds, per 3x3 conv, ``Conv2d`` (+
    ``BatchNorm2d`` for the BN variants) + ``ReLU``, and a ``MaxPool2d`` after each
    block; only convs and norms have weights. The depth follows from the number of
    convs (8, 10, 13, 16 for VGG 11, 13, 16, 19), the BN variant from the presence
    of running statistics; the layer indices are then checked against that layout.

    Args:
        state_dict (dict[str, Tensor]): Keys ``features.N.weight``/``.bias`` (with
            BN: ``features.N.{weight,bias,running_mean,running_var}`` for the norm
            after each conv), ``classifier.{0,3,6}.{weight,bias}``.

    Returns:
        tuple: The ``FullyConvVGG`` state dict (see ``vgg_backbone_state_dict``),
        the depth, and whether the net has batch norm (build the backbone with
        ``norm_cfg=dict(type='BN')`` then).

    Raises:
        KeyError: if keys are missing or unknown for the detected layout.
        ValueError: if the conv count is no VGG's, or a shape is not VGG's.
    """
    conv_indices = sorted(
        int(m.group(1))
        for m in map(_FEATURE_KEY.fullmatch, state_dict)
        if m and state_dict[m.group(0)].dim() == 4
    )
    with_norm = any(key.endswith('.running_mean') for key in state_dict)
    depth = _depth_from_conv_count(len(conv_indices))
    expected_indices = torchvision_conv_indices(depth, with_norm)
    if conv_indices != expected_indices:
        raise KeyError(
            f'{TORCHVISION} with {len(conv_indices)} convs has them at '
            f'features indices {expected_indices}, found {conv_indices}'
        )
    check_keys(
        state_dict,
        _torchvision_keys(expected_indices, with_norm),
        TORCHVISION,
        optional=_num_batches_keys(expected_indices, with_norm),
    )
    convs = []
    for index in expected_indices:
        name = f'features.{index}'
        norm = None
        if with_norm:
            norm = {
                k[len(f'features.{index + 1}.') :]: v
                for k, v in state_dict.items()
                if k.startswith(f'features.{index + 1}.')
            }
        convs.append(
            ConvParams(name, state_dict[f'{name}.weight'], state_dict[f'{name}.bias'], norm)
        )
    fc6, fc7 = (_weight_and_bias(state_dict, name) for name in TORCHVISION_FC[:2])
    return vgg_backbone_state_dict(convs, fc6, fc7, depth), depth, with_norm


def torchvision_conv_indices(depth: int, with_norm: bool) -> List[int]:
    """Indices of the convs in torchvision's ``VGG.features`` for a depth."""
    step = 3 if with_norm else 2
    indices, index = [], 0
    for num_convs in VGG_BLOCKS[depth]:
        for _ in range(num_convs):
            indices.append(index)
            index += step
        index += 1  # the block's max pooling
    return indices


def caffe_vgg_to_mmseg(state_dict: StateDict) -> Tuple[StateDict, int]:
    """Convert VGG weights in the Caffe layer naming (VGG16: ``VGG_ILSVRC_16_layers``).

    Args:
        state_dict (dict[str, Tensor]): Keys ``conv{b}_{c}.weight``/``.bias`` (e.g.
            ``conv1_1`` .. ``conv5_3`` for VGG16), ``fc6`` (``(4096, 25088)`` or
            ``(4096, 512, 7, 7)``), ``fc7`` (``(4096, 4096)`` or
            ``(4096, 4096, 1, 1)``), optionally ``fc8`` (dropped).

    Returns:
        tuple: The ``FullyConvVGG`` state dict and the depth, detected from the
        number of convs per block.

    Raises:
        KeyError: if keys are missing or unknown.
        ValueError: if the blocks are no VGG's, or a shape is not VGG's.
    """
    depth = _caffe_depth(state_dict)
    conv_names = caffe_conv_names(depth)
    check_keys(state_dict, caffe_vgg_keys(depth), CAFFE, optional=('fc8.weight', 'fc8.bias'))
    convs = [
        ConvParams(name, state_dict[name + '.weight'], state_dict[name + '.bias'])
        for name in conv_names
    ]
    fc6, fc7 = (_weight_and_bias(state_dict, name) for name in ('fc6', 'fc7'))
    return vgg_backbone_state_dict(convs, fc6, fc7, depth), depth


def caffe_conv_names(depth: int) -> List[str]:
    """Caffe names of a VGG's 3x3 convs in order: ``conv1_1``, ``conv1_2``, ..."""
    return [
        f'conv{block + 1}_{index + 1}'
        for block, num_convs in enumerate(VGG_BLOCKS[depth])
        for index in range(num_convs)
    ]


def caffe_vgg_keys(depth: int) -> List[str]:
    """Keys of a Caffe-named VGG without its classifier's last layer."""
    names = caffe_conv_names(depth) + ['fc6', 'fc7']
    return [f'{name}.{kind}' for name in names for kind in ('weight', 'bias')]


def backbone_meta(state_dict: StateDict, convention: str, depth: int, with_norm: bool) -> dict:
    """Checkpoint ``meta`` for a converted VGG: the backbone settings it needs.

    Args:
        state_dict (dict[str, Tensor]): The converted ``FullyConvVGG`` state dict.
        convention (str): The input the weights expect: ``'torchvision'`` (RGB,
            ImageNet mean/std) or ``'caffe'`` (BGR, mean pixel, unscaled). It follows
            from where the weights were trained, not from their key layout.
        depth (int): VGG depth.
        with_norm (bool): Whether the net has batch norm.

    Returns:
        dict: Plain values: source, the ``FullyConvVGG`` arguments (``depth``,
        ``fc_channels``, ``norm_cfg``) and the ``data_preprocessor`` settings for
        the input the weights expect.

    Raises:
        ValueError: if the convention is unknown.
    """
    preprocessors = dict(torchvision=TORCHVISION_PREPROCESSOR, caffe=CAFFE_PREPROCESSOR)
    if convention not in preprocessors:
        raise ValueError(
            f'convention={convention!r} is not supported; use one of {tuple(preprocessors)}'
        )
    name = f'ImageNet VGG{depth}' + ('-BN' if with_norm else '')
    return dict(
        source=f'{name}, {convention} input convention',
        backbone=dict(
            type='FullyConvVGG',
            depth=depth,
            fc_channels=state_dict['fc7.conv.weight'].shape[0],
            norm_cfg=dict(type='BN') if with_norm else None,
        ),
        data_preprocessor=dict(preprocessors[convention]),
    )


def _caffe_depth(state_dict: StateDict) -> int:
    block_sizes: Dict[int, int] = {}
    for match in filter(None, map(_CAFFE_CONV_KEY.fullmatch, state_dict)):
        block, index = int(match.group(1)), int(match.group(2))
        block_sizes[block] = max(block_sizes.get(block, 0), index)
    if sorted(block_sizes) != list(range(1, 6)):
        raise KeyError(
            f'{CAFFE} has conv1_* .. conv5_* weights; found blocks '
            f'{sorted(block_sizes)} (keys start {sorted(state_dict)[:6]}); for '
            'torchvision keys (features.N) use torchvision_vgg2mmseg.py'
        )
    return depth_from_block_sizes(tuple(block_sizes[b] for b in range(1, 6)), CAFFE)


def _depth_from_conv_count(count: int) -> int:
    by_count = {sum(sizes): depth for depth, sizes in VGG_BLOCKS.items()}
    if count not in by_count:
        raise ValueError(
            f'{TORCHVISION} has {count} conv weights (features.N.weight); VGG 11, 13, '
            f'16, 19 have {sorted(by_count)}. For Caffe keys (conv1_1 ...) use '
            'caffe_vgg2mmseg.py'
        )
    return by_count[count]


def _torchvision_keys(conv_indices: List[int], with_norm: bool) -> List[str]:
    keys = [f'{fc}.{kind}' for fc in TORCHVISION_FC for kind in ('weight', 'bias')]
    for index in conv_indices:
        keys += [f'features.{index}.weight', f'features.{index}.bias']
        if with_norm:
            keys += [f'features.{index + 1}.{name}' for name in NORM_TENSORS]
    return keys


def _num_batches_keys(conv_indices: List[int], with_norm: bool) -> List[str]:
    if not with_norm:
        return []
    return [f'features.{index + 1}.num_batches_tracked' for index in conv_indices]


def _weight_and_bias(state_dict: StateDict, name: str) -> tuple:
    return state_dict[f'{name}.weight'], state_dict[f'{name}.bias']
