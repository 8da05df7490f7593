"""A converted released net must meet a model built as that net: refused otherwise, naming both.

Keys and shapes alone cannot tell NYUDv2's colour net from its HHA net (identical
shapes, other input mean and channel order), and a PASCAL-Context net given to a
PASCAL VOC config only shows up as "59 vs 21 classes". A checkpoint converted from a
released net names it in its meta (``meta['net']``, see ``converters.released``);
:func:`check_released_net` compares that net with what the model is built as
(variant, class count, input mean and channel order, number of streams) and names
both.
"""

from typing import Mapping, NamedTuple, Optional, Tuple

import torch.nn as nn

from .converters.released import RELEASED_NETS, ReleasedNet, dataset_classes
from .reader import CheckpointError, PathLike

#: Largest difference between two means still taken as the same.
MEAN_ATOL = 1e-3


class NetShape(NamedTuple):
    """What distinguishes the released nets: as built or as converted."""

    variant: str
    num_classes: int
    mean: Optional[Tuple[float, ...]]
    bgr_to_rgb: bool
    streams: int = 1

    def describe(self) -> str:
        order = 'channels as stored' if self.bgr_to_rgb else 'BGR'
        mean = 'no mean' if self.mean is None else f'mean {[round(m, 3) for m in self.mean]}'
        streams = f', {self.streams} streams' if self.streams > 1 else ''
        return (
            f'FCN-{self.variant}{streams}, {self.num_classes} classes, input {order} minus {mean}'
        )

    def matches(self, other: 'NetShape') -> bool:
        if self[:2] != other[:2] or self.bgr_to_rgb != other.bgr_to_rgb:
            return False
        if self.streams != other.streams:
            return False
        if self.mean is None or other.mean is None:
            return self.mean is other.mean
        if len(self.mean) != len(other.mean):
            return False
        return all(abs(a - b) <= MEAN_ATOL for a, b in zip(self.mean, other.mean))


def net_shape(net: ReleasedNet) -> NetShape:
    """The shape of ``net`` converted for its own dataset."""
    classes = len(dataset_classes(net.dataset))
    return NetShape(net.variant, classes, tuple(net.mean), net.bgr_to_rgb, _streams(net))


def _streams(net: ReleasedNet) -> int:
    return max(len(net.streams), 1)


def model_shape(model: nn.Module) -> Optional[NetShape]:
    """The shape ``model`` is built as, or None if it is no FCN skip segmentor."""
    model = getattr(model, 'module', model)
    head = getattr(model, 'decode_head', None)
    if head is None or not hasattr(head, 'in_strides'):
        return None
    variant = f'{min(head.in_strides)}s'
    if variant == '8s' and getattr(head, 'skip_scales', None):
        variant = '8s-atonce'
    preprocessor = getattr(model, 'data_preprocessor', None)
    normalises = getattr(preprocessor, '_enable_normalize', False)
    mean = getattr(preprocessor, 'mean', None) if normalises else None
    return NetShape(
        variant,
        int(head.num_classes),
        None if mean is None else tuple(float(m) for m in mean.flatten()),
        bool(getattr(preprocessor, '_channel_conversion', False)),
        max(len(getattr(head, 'streams', ())), 1),
    )


def check_released_net(model: nn.Module, meta: Mapping, path: PathLike) -> None:
    """Refuse a converted released net for a model not built as that net.

    Args:
        model: The model built from the config (may be wrapped).
        meta: The checkpoint's meta; only ``meta['net']`` naming a released net
            is checked, any other checkpoint passes.
        path: The checkpoint, for the message.

    Raises:
        CheckpointError: naming the checkpoint's net, the net the config builds
            (or what it builds, if no released net), and the config to use.
    """
    net = RELEASED_NETS.get(meta.get('net'))
    built = model_shape(model)
    if net is None or built is None:
        return
    expected = NetShape(
        meta.get('variant', net.variant),
        int(meta.get('num_classes', len(net.classes))),
        tuple(meta.get('data_preprocessor', {}).get('mean', net.mean)),
        bool(meta.get('data_preprocessor', {}).get('bgr_to_rgb', net.bgr_to_rgb)),
        _streams(net),
    )
    if expected.matches(built):
        return
    config_nets = [
        other.name for other in RELEASED_NETS.values() if net_shape(other).matches(built)
    ]
    config_net = (
        f'the released net {" / ".join(config_nets)} ({built.describe()})'
        if config_nets
        else f'no released net ({built.describe()})'
    )
    config = meta.get('config') or 'configs/' + net.config
    raise CheckpointError(
        f'checkpoint {path} holds the released net {net.name} ({net.task}; '
        f'{expected.describe()}), but the config builds {config_net}. Test it with '
        f'{config}, or give this config the checkpoint of its own net.'
    )
