"""The released VGG16 FCNs: which one a file is, and its classes in mmseg's order.

The reference repository (shelhamer/fcn.berkeleyvision.org) releases nine VGG16 nets
with the layer names of its PASCAL VOC nets (see ``fcn.py``): four on PASCAL VOC
(21 classes), three on PASCAL-Context (60 outputs: background and the 59 classes)
and two FCN-32s on NYUDv2 (40 classes), one for colour, one for HHA images. A tenth,
the NYUDv2 colour-HHA late fusion FCN-32s, has two VGG16 streams whose layers carry
the suffixes ``color`` and ``hha`` (``conv1_1color``, ``score_frhha``) and one shared
``upscore`` (converted by ``two_stream.py``). :data:`RELEASED_NETS` describes each:
variant, score channels in the released order, the mmseg dataset whose classes the
converted net scores, the config that runs it, the input it expects and, for the
two-stream net, its streams' suffixes.

A file is recognised from its layers and shapes (:func:`identify_released_net`):
the variant from the skip layers, the task from the class count (21, 60, 40) and
the streams from the suffixes of the score layers (:func:`stream_suffixes`). The
NYUDv2 colour and HHA nets have identical layers and shapes: their name must be
given (the weights table's entry does; the converter takes ``--net``).

Score channels are moved by class name (:func:`class_indices`) from the released
order to the order of the dataset's classes, spellings told apart by
:data:`CLASS_ALIASES`; released classes the dataset lacks are dropped (PASCAL-Context's
background for mmseg's 59-class ``PascalContextDataset59``).

The three SIFT Flow nets (``siftflow-fcn{32,16,8}s-heavy``: every head layer twice,
``_sem``/``_geo``) are converted by ``converters.siftflow`` (a file with
``score_fr_sem`` goes there) and recognised here by the semantic head's variant and
33 classes among the nets with a ``geo`` task (``ReleasedNet.tasks``).

Not covered here: FCN-AlexNet has other layers; its files are refused, naming the
layers found.
"""

import re
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

import torch
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS

from ...datasets.nyud import NYUD_CLASSES
from ...datasets.siftflow import SIFTFLOW_CLASSES
from .common import StateDict
from .fcn import CONFIGS, caffe_fcn_to_mmseg, detect_fcn_variant, fcn_meta

VOC_CLASSES: Tuple[str, ...] = tuple(PascalVOCDataset.METAINFO['classes'])
#: PASCAL-Context score channels of the released nets: the reference's
#: ``data/pascal-context/classes-59.txt``, background (a trained class) first.
CONTEXT_CLASSES: Tuple[str, ...] = VOC_CLASSES + (
    'bag',
    'bed',
    'bench',
    'book',
    'building',
    'cabinet',
    'ceiling',
    'clothes',
    'computer',
    'cup',
    'door',
    'fence',
    'floor',
    'flower',
    'food',
    'grass',
    'ground',
    'keyboard',
    'light',
    'mountain',
    'mouse',
    'curtain',
    'platform',
    'sign',
    'plate',
    'road',
    'rock',
    'shelves',
    'sidewalk',
    'sky',
    'snow',
    'bedcloth',
    'track',
    'tree',
    'truck',
    'wall',
    'water',
    'window',
    'wood',
)
#: Dataset class names (mmseg's) -> the released nets' names of the same class.
CLASS_ALIASES: Dict[str, str] = {
    'table': 'diningtable',
    'bedclothes': 'bedcloth',
    'cloth': 'clothes',
}
CAFFE_MEAN = (104.00699, 116.66877, 122.67892)
NYUD_COLOUR_MEAN = (116.190, 97.203, 92.318)
NYUD_HHA_MEAN = (132.431, 94.076, 118.477)
SIFTFLOW_MEAN = (114.578, 115.294, 108.353)


class ReleasedNet(NamedTuple):
    """One released VGG16 FCN.

    Attributes:
        name (str): Its stem, ``http://dl.caffe.berkeleyvision.org/<name>.caffemodel``.
        variant (str): ``'32s'``, ``'16s'``, ``'8s'`` or ``'8s-atonce'``.
        task (str): What it segments, in words.
        classes (tuple[str]): Its score channels, in the released order.
        dataset (str): The mmseg dataset type whose classes the converted net scores.
        config (str): The config that runs it, below ``configs/``.
        mean (tuple[float]): The mean subtracted from its input, in the order fed.
        bgr_to_rgb (bool): The data preprocessor's setting that feeds that order
            (images are read as BGR): False for BGR colour, True for HHA as stored.
        streams (tuple[str]): For a multi-stream net, the suffixes of its streams'
            layer names in the order of the input's channels (``('color', 'hha')``);
            empty for a single-stream net.
        tasks (tuple[str]): Its further tasks (``MultiTaskEncoderDecoder``'s
            ``task_heads``): ``('geo',)`` for SIFT Flow, else none.
    """

    name: str
    variant: str
    task: str
    classes: Tuple[str, ...]
    dataset: str
    config: str
    mean: Tuple[float, ...] = CAFFE_MEAN
    bgr_to_rgb: bool = False
    streams: Tuple[str, ...] = ()
    tasks: Tuple[str, ...] = ()

    @property
    def input(self) -> str:
        """The input it expects, in words."""
        if self.streams == ('color', 'hha'):
            order = 'colour BGR then HHA channels as stored'
        else:
            order = 'channels as stored' if self.bgr_to_rgb else 'BGR'
        return f'{order}, 0..255 minus mean {list(self.mean)}'


def _voc(name: str, variant: str) -> ReleasedNet:
    return ReleasedNet(
        name, variant, 'PASCAL VOC', VOC_CLASSES, 'PascalVOCDataset', CONFIGS[variant]
    )


def _context(variant: str) -> ReleasedNet:
    return ReleasedNet(
        f'pascalcontext-fcn{variant}-heavy',
        variant,
        'PASCAL-Context',
        CONTEXT_CLASSES,
        'PascalContextDataset59',
        f'fcn_skip_caffe/fcn{variant}_vgg16-caffe_1xb1-400k_pascal-context-59-fullsize.py',
    )


def _nyud(images: str, mean: Tuple[float, ...], bgr_to_rgb: bool) -> ReleasedNet:
    return ReleasedNet(
        f'nyud-fcn32s-{images}-heavy',
        '32s',
        f'NYUDv2 ({"colour" if images == "color" else "HHA"})',
        NYUD_CLASSES,
        'NYUDv2Dataset',
        f'fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-{images}-fullsize.py',
        mean,
        bgr_to_rgb,
    )


#: Suffixes of the colour-HHA late fusion net's layers, colour's first (its input order).
COLOUR_HHA_STREAMS = ('color', 'hha')


def _siftflow(variant: str) -> ReleasedNet:
    return ReleasedNet(
        f'siftflow-fcn{variant}-heavy',
        variant,
        'SIFT Flow (semantic + geometric)',
        SIFTFLOW_CLASSES,
        'SiftFlowDataset',
        f'fcn_skip_caffe/fcn{variant}_vgg16-caffe_1xb1-100k_siftflow-256x256.py',
        SIFTFLOW_MEAN,
        False,
        tasks=('geo',),
    )


_NETS = [
    _voc('fcn32s-heavy-pascal', '32s'),
    _voc('fcn16s-heavy-pascal', '16s'),
    _voc('fcn8s-heavy-pascal', '8s'),
    _voc('fcn8s-atonce-pascal', '8s-atonce'),
    _context('32s'),
    _context('16s'),
    _context('8s'),
    _nyud('color', NYUD_COLOUR_MEAN, False),
    _nyud('hha', NYUD_HHA_MEAN, True),
    ReleasedNet(
        'nyud-fcn32s-color-hha-heavy',
        '32s',
        'NYUDv2 (colour-HHA late fusion)',
        NYUD_CLASSES,
        'NYUDv2Dataset',
        'fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-hha-fullsize.py',
        NYUD_COLOUR_MEAN + NYUD_HHA_MEAN,
        False,
        streams=COLOUR_HHA_STREAMS,
    ),
    _siftflow('32s'),
    _siftflow('16s'),
    _siftflow('8s'),
]
#: The released VGG16 FCNs with the reference layer names, by name.
RELEASED_NETS: Dict[str, ReleasedNet] = {net.name: net for net in _NETS}
#: Configs for a released net converted for another dataset than its own.
OTHER_DATASET_CONFIGS: Dict[Tuple[str, str], str] = {
    ('pascalcontext-fcn8s-heavy', 'PascalContextDataset'): (
        'fcn_skip_caffe/fcn8s_vgg16-caffe_1xb1-400k_pascal-context-60-fullsize.py'
    ),
}


def convert_caffe_fcn(
    state_dict: StateDict,
    variant: Optional[str] = None,
    learn_upsample: bool = False,
    net: Optional[str] = None,
    dataset: Optional[str] = None,
) -> Tuple[StateDict, dict]:
    """Convert reference FCN weights and say which released net they are.

    Args:
        state_dict: Weights with the reference layer names (see
            ``fcn.caffe_fcn_to_mmseg``).
        variant: The FCN variant, checked against the keys; default: from the keys
            (or from ``net``).
        learn_upsample: Keep the upsampling weights (see ``caffe_fcn_to_mmseg``).
        net: The released net's name (see :func:`identify_released_net`).
        dataset: The mmseg dataset type whose classes the converted net scores, in
            its order; default: the net's (``PascalContextDataset59`` for
            PASCAL-Context, whose background channel is then dropped).

    Returns:
        tuple: The converted state dict and its meta (``fcn.fcn_meta`` plus, for a
        released net, :func:`released_meta`).

    Raises:
        KeyError: if the layers are not those of a reference FCN; the message names
            the layers found.
        ValueError: see ``caffe_fcn_to_mmseg``, :func:`identify_released_net` and
            :func:`class_indices`; or ``dataset`` given for weights of no released
            net (their class names are unknown).
    """
    if 'score_fr_sem.weight' in state_dict:
        from .siftflow import convert_siftflow_fcn  # it builds on this module

        return convert_siftflow_fcn(state_dict, variant, learn_upsample, net, dataset)
    if net in RELEASED_NETS and variant is None and RELEASED_NETS[net].variant == '8s-atonce':
        variant = '8s-atonce'  # port weights without Scale layers read as staged FCN-8s
    try:
        converted, variant = caffe_fcn_to_mmseg(state_dict, variant, learn_upsample)
    except KeyError as error:
        raise KeyError(
            f'{error.args[0]}. Layers found: {", ".join(layer_names(list(state_dict)))}. '
            'The converter knows the released VGG16 FCNs with the PASCAL VOC layer '
            f'names ({", ".join(RELEASED_NETS)}; the two-stream one through '
            "converters.two_stream, SIFT Flow's through converters.siftflow); "
            'FCN-AlexNet is not among them'
        ) from error
    meta = fcn_meta(converted, variant, learn_upsample)
    released = identify_released_net(state_dict, net, variant)
    return as_released(converted, meta, released, dataset)


def as_released(
    converted: StateDict, meta: dict, released: Optional[ReleasedNet], dataset: Optional[str]
) -> Tuple[StateDict, dict]:
    """A converted net's score channels in the order of ``dataset``'s classes (default:
    the released net's dataset) and its meta with :func:`released_meta`'s.

    Raises:
        ValueError: if ``dataset`` is given for weights of no released net (their class
            names are unknown), or see :func:`class_indices`.
    """
    if released is None:
        if dataset is not None:
            raise ValueError(
                f'dataset={dataset!r} needs the class names of a released net, but '
                f'these weights ({meta["num_classes"]} classes) are of none; drop the dataset'
            )
        return converted, meta
    target = dataset or released.dataset
    classes = dataset_classes(target)
    indices = class_indices(released.classes, classes)
    if indices != list(range(len(released.classes))):
        converted = select_classes(converted, indices)
    meta.update(released_meta(released, target, classes))
    return converted, meta


def identify_released_net(
    state_dict: StateDict,
    net: Optional[str] = None,
    variant: Optional[str] = None,
    tasks: Tuple[str, ...] = (),
) -> Optional[ReleasedNet]:
    """The released net whose layers and shapes ``state_dict`` has.

    Args:
        state_dict: Weights with the reference layer names (checked by the converter);
            a multi-stream net's with its streams' suffixes (:func:`stream_suffixes`).
        net: Its name in :data:`RELEASED_NETS`, checked against the weights; needed
            for NYUDv2's colour and HHA nets, whose shapes are identical.
        variant: The FCN variant asked for (``'8s-atonce'`` tells at-once FCN-8s
            weights without Scale layers from staged ones).
        tasks: The further tasks of the file (``('geo',)`` for SIFT Flow's, whose
            ``state_dict`` is then its ``_sem`` head named as VOC's); only nets with
            these tasks match.

    Returns:
        The net, or None for weights of a class count no net was released with
        (e.g. one's own training with the reference layer names).

    Raises:
        ValueError: if ``net`` is unknown or contradicts the weights, or the
            weights fit several nets and ``net`` is not given.
    """
    suffixes = stream_suffixes(state_dict)
    first = suffixes[0] if suffixes else ''
    stream = {strip_suffix(key, first) for key in stream_keys(state_dict, first)}
    found_variant = variant or detect_fcn_variant(stream)
    num_classes = state_dict[f'score_fr{first}.weight'].shape[0]
    found = (found_variant, num_classes, frozenset(suffixes), tuple(tasks))
    if net is not None:
        if net not in RELEASED_NETS:
            raise ValueError(f'net={net!r} is not a released net; use one of {list(RELEASED_NETS)}')
        released = RELEASED_NETS[net]
        if released.tasks != tuple(tasks):
            raise ValueError(
                f'{net} has the further tasks {list(released.tasks)}, but the weights '
                f'have {list(tasks)}; pick the right file or name'
            )
        if _signature(released) != found:
            raise ValueError(
                f'the weights are those of an FCN-{found_variant} with {num_classes} '
                f'classes{_streams_text(suffixes)}, but {net} is an FCN-{released.variant} '
                f'with {len(released.classes)} classes{_streams_text(released.streams)} '
                f'({released.task}); pick the right file or name'
            )
        return released
    matches = [released for released in _NETS if _signature(released) == found]
    if len(matches) > 1:
        names = ' or '.join(f'--net {released.name}' for released in matches)
        raise ValueError(
            f'the layers and shapes (FCN-{found_variant}, {num_classes} classes) are '
            f'those of {len(matches)} released nets with identical shapes but other '
            f'inputs; name the net: {names} (net= in Python)'
        )
    return matches[0] if matches else None


def stream_suffixes(keys: Iterable[str]) -> Tuple[str, ...]:
    """The suffixes of a multi-stream net's layer names, in the order of its bodies.

    A stream ``s`` has its own body and score layer (``conv1_1<s>``, ``score_fr<s>``);
    the streams are ordered as their ``conv1_1<s>`` keys. A net with one body
    (``conv1_1``) has none, even with several score layers (SIFT Flow's
    ``score_fr_sem``, ``score_fr_geo`` share one body).

    Returns:
        tuple[str]: E.g. ``('color', 'hha')``; empty for a single-stream net.
    """
    keys = list(keys)
    scored = {m.group(1) for m in map(_STREAM_SCORE.fullmatch, keys) if m}
    bodies = [m.group(1) for m in map(_STREAM_BODY.fullmatch, keys) if m]
    return tuple(suffix for suffix in bodies if suffix in scored)


_STREAM_SCORE = re.compile(r'score_fr(\w+)\.weight')
_STREAM_BODY = re.compile(r'conv1_1(\w+)\.weight')


def stream_keys(keys: Iterable[str], suffix: str) -> List[str]:
    """The keys of the stream ``suffix`` (layers named ``<layer><suffix>``), or
    every key for a single-stream net (``suffix=''``)."""
    return [k for k in keys if k.rsplit('.', 1)[0].endswith(suffix)]


def strip_suffix(key: str, suffix: str) -> str:
    """``'conv1_1color.weight'`` -> ``'conv1_1.weight'`` for ``suffix='color'``."""
    layer, param = key.rsplit('.', 1)
    return f'{layer[: len(layer) - len(suffix)]}.{param}'


def _signature(net: ReleasedNet) -> Tuple[str, int, frozenset, Tuple[str, ...]]:
    return net.variant, len(net.classes), frozenset(net.streams), tuple(net.tasks)


def _streams_text(suffixes: Sequence[str]) -> str:
    return f' in streams {"/".join(suffixes)}' if suffixes else ''


def dataset_classes(dataset: str) -> Tuple[str, ...]:
    """The class names of a registered dataset type (its ``METAINFO``).

    Raises:
        ValueError: if no dataset of that name is registered.
    """
    dataset_class = DATASETS.get(dataset)
    if dataset_class is None:
        raise ValueError(
            f'dataset {dataset!r} is not a registered dataset type; use one of '
            'PascalVOCDataset, PascalContextDataset59, PascalContextDataset, NYUDv2Dataset'
        )
    return tuple(dataset_class.METAINFO['classes'])


def class_indices(released: Sequence[str], wanted: Sequence[str]) -> List[int]:
    """For each wanted class (a dataset's), the index of its released score channel.

    Names are compared as written and through :data:`CLASS_ALIASES`.

    Raises:
        ValueError: listing the wanted classes no released channel scores.
    """
    position = {name: index for index, name in enumerate(released)}
    indices, unmatched = [], []
    for name in wanted:
        index = position.get(name, position.get(CLASS_ALIASES.get(name, name)))
        if index is None:
            unmatched.append(name)
        else:
            indices.append(index)
    if unmatched:
        raise ValueError(
            f"the classes {unmatched} of the dataset are not among the net's "
            f'{len(released)} classes ({", ".join(released)}); convert for a dataset '
            'whose classes the net scores'
        )
    return indices


def select_classes(state_dict: StateDict, indices: Sequence[int]) -> StateDict:
    """The converted state dict scoring the classes ``indices`` in that order.

    Every class-sized dimension of the head's layers is indexed: the rows of the
    score layers and both class dimensions of learned upsampling weights.
    """
    index = torch.tensor(list(indices), dtype=torch.long)
    out = dict(state_dict)
    for key, value in state_dict.items():
        if not key.startswith('decode_head.'):
            continue
        if '.conv_seg.' in key or '.skip_scores.' in key:
            out[key] = value.index_select(0, index)
        elif 'upsample' in key:
            out[key] = value.index_select(0, index).index_select(1, index)
    return out


def released_meta(net: ReleasedNet, dataset: str, classes: Sequence[str]) -> dict:
    """The checkpoint ``meta`` entries of a converted released net.

    Args:
        net: The net.
        dataset: The dataset type its scores were ordered for.
        classes: That dataset's classes (the converted net's score channels).

    Returns:
        dict: ``net``, ``task``, ``dataset``, ``config`` (the net's for its own
        dataset, else one of ``OTHER_DATASET_CONFIGS`` or None), ``dataset_meta`` (classes and palette, as
        ``mmseg.apis.init_model`` reads them) and ``data_preprocessor`` (the input
        the weights expect).
    """
    palette = DATASETS.get(dataset).METAINFO.get('palette')
    meta = dict(
        net=net.name,
        task=net.task,
        dataset=dataset,
        num_classes=len(classes),
        dataset_meta=dict(
            classes=tuple(classes), palette=[list(map(int, c)) for c in palette or []]
        ),
        data_preprocessor=dict(
            bgr_to_rgb=net.bgr_to_rgb, mean=list(net.mean), std=[1.0] * len(net.mean)
        ),
    )
    if net.streams:
        meta['streams'] = list(net.streams)
    config = (
        net.config if dataset == net.dataset else OTHER_DATASET_CONFIGS.get((net.name, dataset))
    )
    meta['config'] = None if config is None else 'configs/' + config
    return meta


def layer_names(keys: Sequence[str]) -> List[str]:
    """The layers of a state dict (keys without ``.weight``/``.bias``), in order."""
    return list(dict.fromkeys(key.rsplit('.', 1)[0] for key in keys))
