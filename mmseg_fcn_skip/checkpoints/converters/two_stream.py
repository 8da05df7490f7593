"""The released two-stream NYUDv2 colour-HHA FCN-32s to a checkpoint of the plugin's model.

``nyud-fcn32s-color-hha-heavy`` runs two VGG16 FCN-32s bodies, one on the colour
image and one on the HHA image, whose layers carry the suffixes ``color`` and
``hha``; their score maps are summed with weights 0.5 and 0.5 (``score_fused``, no
weights) and upsampled once by the shared ``upscore`` (fixed bilinear, k64 s32),
then cropped to the colour input. It maps onto ``MultiStreamBackbone`` (a
``FullyConvVGG(pad_mode='caffe')`` per stream) + ``LateFusionHead`` (an
``FCNSkipHead(pad_mode='caffe')`` per stream) as built by
``configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-hha-fullsize.py``:

========================================= =============================================
reference layer                           plugin key
========================================= =============================================
conv{b}_{c}color, fc6color, fc7color      backbone.streams.0.<the FCN-32s key>
score_frcolor                             decode_head.streams.0.conv_seg
conv{b}_{c}hha, fc6hha, fc7hha            backbone.streams.1.<the FCN-32s key>
score_frhha                               decode_head.streams.1.conv_seg
upscore (shared)                          each stream's final_upsample (checked
                                          bilinear and dropped, as in ``fcn.py``)
========================================= =============================================

Each stream is converted as a single-stream reference FCN (``fcn.caffe_fcn_to_mmseg``
on its layers with the suffix removed, plus the shared layers), so the same checks
of keys, shapes and bilinear kernels apply. Summing the streams' upsampled scores
equals upsampling the sum, since the shared upsampling and crop are linear.

The streams can also start from the released single-stream nets
(``nyud-fcn32s-color-heavy``, ``nyud-fcn32s-hha-heavy``), as the authors trained the
late fusion net: the config starts each stream from its net by ``init_cfg``
(``Pretrained`` with ``prefix``), and :func:`two_stream_from_single_streams` joins two
converted single-stream checkpoints into one (e.g. for ``load_from``).
"""

from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .common import StateDict
from .fcn import caffe_fcn_to_mmseg, fcn_meta
from .released import (
    RELEASED_NETS,
    as_released,
    dataset_classes,
    identify_released_net,
    layer_names,
    released_meta,
    stream_keys,
    stream_suffixes,
    strip_suffix,
)

#: The parts of a converted single-stream net and where each stream's copy goes.
PARTS = ('backbone.', 'decode_head.')
#: The released single-stream nets each stream of a multi-stream net starts from.
STREAM_NETS = {
    'nyud-fcn32s-color-hha-heavy': ('nyud-fcn32s-color-heavy', 'nyud-fcn32s-hha-heavy'),
}


def is_two_stream_fcn(keys) -> bool:
    """Whether ``keys`` are those of a multi-stream reference FCN (a body and a score
    layer per stream, ``conv1_1<s>`` and ``score_fr<s>``; see
    ``released.stream_suffixes``)."""
    return len(stream_suffixes(keys)) >= 2


def split_streams(state_dict: StateDict, suffixes: Sequence[str]) -> List[StateDict]:
    """One single-stream reference state dict per suffix, in ``suffixes`` order.

    Stream ``s`` gets its layers ``<layer><s>`` as ``<layer>`` and every shared layer
    (a name with no stream's suffix, e.g. ``upscore``).
    """
    own = {suffix: stream_keys(state_dict, suffix) for suffix in suffixes}
    claimed = {key for keys in own.values() for key in keys}
    shared = [key for key in state_dict if key not in claimed]
    return [
        OrderedDict(
            [(strip_suffix(key, suffix), state_dict[key]) for key in own[suffix]]
            + [(key, state_dict[key]) for key in shared]
        )
        for suffix in suffixes
    ]


def caffe_two_stream_to_mmseg(
    state_dict: StateDict,
    suffixes: Sequence[str],
    variant: Optional[str] = None,
    learn_upsample: bool = False,
) -> Tuple[StateDict, str]:
    """Convert a two-stream reference FCN into the plugin model's state dict.

    Args:
        state_dict: The reference layers of every stream (``conv1_1color`` ..
            ``fc7color``, ``score_frcolor``, the same for each suffix) and the
            shared upsampling (``upscore`` ``(C, C, 64, 64)``, no bias).
        suffixes: The streams' suffixes in the order of the input channels.
        variant: The FCN variant of every stream, checked against its keys
            (default: read from them).
        learn_upsample: Keep the upsampling weights (then each stream's
            ``final_upsample`` starts from the shared ``upscore``).

    Returns:
        tuple: The state dict (``backbone.streams.<i>.*``,
        ``decode_head.streams.<i>.*``) and the variant of the streams.

    Raises:
        KeyError, ValueError: see ``fcn.caffe_fcn_to_mmseg``, for a stream (named),
            or if the streams are of other variants or class counts.
    """
    out: StateDict = OrderedDict()
    variants, classes = [], []
    for index, (suffix, stream) in enumerate(zip(suffixes, split_streams(state_dict, suffixes))):
        try:
            converted, found = caffe_fcn_to_mmseg(stream, variant, learn_upsample)
        except (KeyError, ValueError) as error:
            raise type(error)(
                f'stream {suffix!r} (its layers with the suffix removed): {error.args[0]}'
            ) from error
        variants.append(found)
        classes.append(converted['decode_head.conv_seg.weight'].shape[0])
        out.update(_into_stream(converted, index))
    if len(set(variants)) > 1 or len(set(classes)) > 1:
        raise ValueError(
            f'the streams {tuple(suffixes)} are FCN-{"/".join(variants)} with '
            f'{"/".join(map(str, classes))} classes; late fusion sums score maps of one '
            'variant and class count'
        )
    return out, variants[0]


def convert_two_stream_fcn(
    state_dict: StateDict,
    variant: Optional[str] = None,
    learn_upsample: bool = False,
    net: Optional[str] = None,
    dataset: Optional[str] = None,
) -> Tuple[StateDict, dict]:
    """Convert a two-stream reference FCN and say which released net it is.

    Args:
        state_dict: See :func:`caffe_two_stream_to_mmseg`.
        variant: See :func:`caffe_two_stream_to_mmseg`.
        learn_upsample: See :func:`caffe_two_stream_to_mmseg`.
        net: The released net's name, checked against the weights; default:
            recognised from the suffixes, variant and class count.
        dataset: The mmseg dataset type whose classes the converted net scores;
            default: the net's.

    Returns:
        tuple: The converted state dict and its meta (``fcn.fcn_meta`` of the first
        stream, ``released.released_meta`` of the net, and ``streams``: the
        suffixes in stream order).

    Raises:
        KeyError, ValueError: see :func:`caffe_two_stream_to_mmseg` and
            ``released.identify_released_net``.
    """
    suffixes = stream_suffixes(state_dict)
    if len(suffixes) < 2:
        raise KeyError(
            'the state dict has no two streams (a conv1_1<s> and a score_fr<s> per '
            f'stream s); layers found: {", ".join(layer_names(list(state_dict)))}'
        )
    released = identify_released_net(state_dict, net, variant)
    if released is not None:
        suffixes = released.streams
    converted, variant = caffe_two_stream_to_mmseg(state_dict, suffixes, variant, learn_upsample)
    first = _stream_part(converted, 0)
    meta = fcn_meta(first, variant, learn_upsample)
    meta['streams'] = list(suffixes)
    if released is None:
        meta['config'] = None
    return as_released(converted, meta, released, dataset)


def two_stream_from_single_streams(
    checkpoints: Sequence[Mapping], net: str = 'nyud-fcn32s-color-hha-heavy'
) -> Tuple[StateDict, dict]:
    """Start a two-stream net from converted single-stream checkpoints, one per stream.

    The authors trained the colour-HHA late fusion net from their trained colour and
    HHA nets: stream ``i`` takes the backbone and the head of ``checkpoints[i]``.

    Args:
        checkpoints: Converted checkpoints (``{'state_dict': ..., 'meta': ...}``, as
            ``converters.make_checkpoint`` builds them, or bare state dicts), in
            stream order. A checkpoint of a released net must be the net of its
            stream (for colour-HHA: ``nyud-fcn32s-color-heavy``, then
            ``nyud-fcn32s-hha-heavy``).
        net: The two-stream released net being started.

    Returns:
        tuple: The state dict (``backbone.streams.<i>.*``,
        ``decode_head.streams.<i>.*``) and its meta: the two-stream net's input
        and classes, ``source`` naming the checkpoints' nets, and no ``net`` (the
        weights are not the released two-stream ones).

    Raises:
        ValueError: if the count of checkpoints is not the net's stream count, a
            checkpoint is another stream's net or a two-stream one, or the
            checkpoints' keys or shapes differ.
    """
    if net not in STREAM_NETS:
        raise ValueError(
            f'net={net!r} is no multi-stream released net; use one of {list(STREAM_NETS)}'
        )
    released = RELEASED_NETS[net]
    if len(checkpoints) != len(released.streams):
        raise ValueError(
            f'{net} has {len(released.streams)} streams ({", ".join(released.streams)}) '
            f'but {len(checkpoints)} checkpoints were given; give one per stream, in that order'
        )
    expected = STREAM_NETS[net]
    out: StateDict = OrderedDict()
    sources = []
    for index, checkpoint in enumerate(checkpoints):
        state_dict, meta = _unpack(checkpoint)
        found = meta.get('net')
        if found is not None and found != expected[index]:
            raise ValueError(
                f'checkpoint {index} holds {found}, but stream {index} '
                f'({released.streams[index]}) of {net} starts from {expected[index]}; '
                f'give the checkpoints in the order {", ".join(expected)}'
            )
        if any(key.startswith(('backbone.streams.', 'decode_head.streams.')) for key in state_dict):
            raise ValueError(
                f'checkpoint {index} is already a multi-stream net; give single-stream '
                f'checkpoints ({", ".join(expected)})'
            )
        sources.append(found or f'checkpoint {index}')
        out.update(_into_stream(state_dict, index))
    shapes = [
        {key: tuple(value.shape) for key, value in _stream_part(out, index).items()}
        for index in range(len(checkpoints))
    ]
    if any(stream != shapes[0] for stream in shapes[1:]):
        raise ValueError(
            'the single-stream checkpoints have other keys or shapes (another FCN variant, '
            'class count or backbone width); give checkpoints of the same net for each stream'
        )
    meta = released_meta(released, released.dataset, dataset_classes(released.dataset))
    del meta['net']
    meta['source'] = f'{net} started from ' + ', '.join(sources)
    meta['variant'] = released.variant
    meta['streams'] = list(released.streams)
    return out, meta


def _into_stream(state_dict: Mapping, index: int) -> StateDict:
    """Keys of a single-stream model moved into stream ``index``."""
    out: StateDict = OrderedDict()
    for key, value in state_dict.items():
        part = next((p for p in PARTS if key.startswith(p)), None)
        if part is None:
            raise ValueError(
                f'key {key!r} is in neither {" nor ".join(PARTS)}; give a checkpoint of '
                'a whole single-stream model'
            )
        out[f'{part}streams.{index}.{key[len(part) :]}'] = value
    return out


def _stream_part(state_dict: Mapping, index: int) -> StateDict:
    """Stream ``index``'s keys as a single-stream model's."""
    out: StateDict = OrderedDict()
    for key, value in state_dict.items():
        for part in PARTS:
            prefix = f'{part}streams.{index}.'
            if key.startswith(prefix):
                out[part + key[len(prefix) :]] = value
    return out


def _unpack(checkpoint: Mapping) -> Tuple[Mapping, Dict]:
    if 'state_dict' in checkpoint:
        return checkpoint['state_dict'], dict(checkpoint.get('meta') or {})
    return checkpoint, {}
