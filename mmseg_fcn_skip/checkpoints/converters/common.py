"""Pieces shared by the checkpoint converters.

Every converter takes a source state dict (read by ``checkpoints.read_weights``),
checks its key set against the keys the source layout must have, and writes the keys
of ``FullyConvVGG`` (and, for whole FCNs, ``FCNSkipHead``) into a checkpoint that
mmengine loads as it is.
"""

from collections import OrderedDict
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor

from ...models.backbones.fully_conv_vgg import BLOCK_WIDTHS, LEVELS, VGG_BLOCKS

StateDict = Dict[str, Tensor]
#: Width of VGG's first block; the converters target the standard VGG widths.
BASE_CHANNELS = LEVELS.channels[0]
#: Spatial size of pool5 on a 224x224 ImageNet crop: fc6 reads a 7x7 window.
FC6_KERNEL = LEVELS.window('fc6').kernel


class ConvParams(NamedTuple):
    """One 3x3 conv of a VGG body, with the batch norm that follows it, if any.

    Attributes:
        name (str): The conv's name in the source layout, for error messages.
        weight (Tensor): ``(C_out, C_in, 3, 3)``.
        bias (Tensor, optional): ``(C_out,)``.
        norm (dict, optional): Batch norm tensors ``weight``, ``bias``,
            ``running_mean``, ``running_var`` (each ``(C_out,)``) and optionally
            ``num_batches_tracked`` (a scalar).
    """

    name: str
    weight: Tensor
    bias: Optional[Tensor]
    norm: Optional[Dict[str, Tensor]] = None


def check_keys(
    found: Iterable[str], expected: Iterable[str], source: str, optional: Iterable[str] = ()
) -> None:
    """Check that a state dict has exactly the expected keys.

    Args:
        found (Iterable[str]): Keys of the state dict.
        expected (Iterable[str]): Keys it must have.
        source (str): Name of the source layout, for the message.
        optional (Iterable[str]): Keys it may have besides the expected ones.

    Raises:
        KeyError: listing the missing and the unknown keys.
    """
    found, expected = set(found), set(expected)
    missing = sorted(expected - found)
    unknown = sorted(found - expected - set(optional))
    if missing or unknown:
        raise KeyError(
            f'the state dict does not have the keys of {source}: missing {missing}, '
            f'unknown {unknown}; check that the file holds {source} weights, or use '
            'the converter for its layout'
        )


def depth_from_block_sizes(block_sizes: Tuple[int, ...], source: str) -> int:
    """VGG depth whose blocks have ``block_sizes`` convs each.

    Raises:
        ValueError: if no VGG depth has these block sizes.
    """
    for depth, sizes in VGG_BLOCKS.items():
        if tuple(block_sizes) == sizes:
            return depth
    raise ValueError(
        f'{source} has {tuple(block_sizes)} convs per block, which is no '
        f'VGG; known depths and their blocks: {VGG_BLOCKS}'
    )


def vgg_backbone_state_dict(
    convs: List[ConvParams], fc6: Tuple[Tensor, Tensor], fc7: Tuple[Tensor, Tensor], depth: int
) -> StateDict:
    """Assemble a ``FullyConvVGG`` state dict from a VGG's layers.

    fc6 and fc7 are reshaped into convolutions ("net surgery"): a fully connected
    fc6 of shape ``(F, 512 * 7 * 7)`` becomes ``(F, 512, 7, 7)`` (both flatten the
    ``(512, 7, 7)`` pool5 map row-major), fc7 ``(F, F)`` becomes ``(F, F, 1, 1)``;
    weights already in conv shape are kept. A conv bias before a batch norm is
    folded into the norm's running mean, exactly: ``FullyConvVGG`` has no bias on
    normalised convs, and ``BN(conv(x) + b)`` with running mean ``m`` equals
    ``BN(conv(x))`` with running mean ``m - b`` (in training, batch statistics
    cancel the bias as well).

    Args:
        convs (list[ConvParams]): The 3x3 convs of the VGG body in order.
        fc6 (tuple[Tensor, Tensor]): fc6 weight and bias.
        fc7 (tuple[Tensor, Tensor]): fc7 weight and bias.
        depth (int): VGG depth; ``convs`` must match its blocks.

    Returns:
        dict[str, Tensor]: Keys ``blocks.{b}.{c}.conv.weight`` (and ``.conv.bias``
        without norm, ``.bn.*`` with), ``fc6.conv.*``, ``fc7.conv.*``.

    Raises:
        ValueError: if a tensor does not have the VGG shape.
    """
    out: StateDict = OrderedDict()
    layers = iter(convs)
    in_channels = 3
    for block, (num_convs, width) in enumerate(zip(VGG_BLOCKS[depth], BLOCK_WIDTHS)):
        out_channels = BASE_CHANNELS * width
        for index in range(num_convs):
            layer = next(layers)
            key = f'blocks.{block}.{index}'
            _check_shape(layer.name + '.weight', layer.weight, (out_channels, in_channels, 3, 3))
            out[f'{key}.conv.weight'] = layer.weight
            if layer.norm is None:
                _check_shape(layer.name + '.bias', layer.bias, (out_channels,))
                out[f'{key}.conv.bias'] = layer.bias
            else:
                out.update(_norm_params(layer, key, out_channels))
            in_channels = out_channels
    fc6_weight = fc_as_conv('fc6.weight', fc6[0], in_channels, FC6_KERNEL)
    fc_channels = fc6_weight.shape[0]
    _check_shape('fc6.bias', fc6[1], (fc_channels,))
    fc7_weight = fc_as_conv('fc7.weight', fc7[0], fc_channels, 1)
    _check_shape('fc7.weight', fc7_weight, (fc_channels, fc_channels, 1, 1))
    _check_shape('fc7.bias', fc7[1], (fc_channels,))
    out['fc6.conv.weight'] = fc6_weight
    out['fc6.conv.bias'] = fc6[1]
    out['fc7.conv.weight'] = fc7_weight
    out['fc7.conv.bias'] = fc7[1]
    return out


def fc_as_conv(name: str, weight: Tensor, in_channels: int, kernel: int) -> Tensor:
    """A fully connected weight ``(F, C * k * k)`` as a conv weight ``(F, C, k, k)``.

    A weight already of shape ``(F, C, k, k)`` is returned as it is.

    Raises:
        ValueError: if the weight has neither shape.
    """
    if weight.dim() == 2 and weight.shape[1] == in_channels * kernel * kernel:
        return weight.reshape(weight.shape[0], in_channels, kernel, kernel)
    if weight.dim() == 4 and tuple(weight.shape[1:]) == (in_channels, kernel, kernel):
        return weight
    flat = in_channels * kernel**2
    raise ValueError(
        f'{name} has shape {tuple(weight.shape)}; expected (F, {flat}) (fully '
        f'connected) or (F, {in_channels}, {kernel}, {kernel}) (convolution)'
    )


def make_checkpoint(state_dict: StateDict, meta: dict) -> dict:
    """The checkpoint layout mmengine's ``load_checkpoint`` reads.

    Tensors are made contiguous so that ``torch.save`` stores each one compactly.
    ``meta`` must hold plain Python values only (loadable with
    ``torch.load(weights_only=True)``).
    """
    return {
        'state_dict': OrderedDict((k, v.contiguous()) for k, v in state_dict.items()),
        'meta': meta,
    }


def _norm_params(layer: ConvParams, key: str, channels: int) -> StateDict:
    norm = dict(layer.norm)
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        _check_shape(f'{layer.name} norm {name}', norm[name], (channels,))
    running_mean = norm['running_mean']
    if layer.bias is not None:
        _check_shape(layer.name + '.bias', layer.bias, (channels,))
        running_mean = running_mean - layer.bias
    out = OrderedDict(
        [
            (f'{key}.bn.weight', norm['weight']),
            (f'{key}.bn.bias', norm['bias']),
            (f'{key}.bn.running_mean', running_mean),
            (f'{key}.bn.running_var', norm['running_var']),
        ]
    )
    out[f'{key}.bn.num_batches_tracked'] = norm.get('num_batches_tracked', torch.tensor(0))
    return out


def _check_shape(name: str, tensor: Optional[Tensor], shape: Tuple[int, ...]) -> None:
    if tensor is None or tuple(tensor.shape) != shape:
        found = None if tensor is None else tuple(tensor.shape)
        raise ValueError(f'{name} has shape {found}; a VGG with the standard widths needs {shape}')
