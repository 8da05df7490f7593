"""The released SIFT Flow FCNs (one VGG16 body, a semantic and a geometric head).

``siftflow-fcn{32,16,8}s-heavy`` have the VGG16 body of the PASCAL VOC nets and every
head layer twice, suffixed ``_sem`` (33 semantic classes) and ``_geo`` (3 geometric
classes): ``score_fr_sem``, ``upscore_sem`` (32s); ``upscore2_sem``,
``score_pool4_sem``, ``upscore16_sem`` (16s); ``upscore2_sem``, ``score_pool4_sem``,
``upscore_pool4_sem``, ``score_pool3_sem``, ``upscore8_sem`` (8s); the same with
``_geo``. Each suffix's layers, without the suffix, are a VOC-named head, converted
as ``fcn.caffe_fcn_to_mmseg`` converts one; they map onto
``MultiTaskEncoderDecoder``:

=============================== =================================================
reference layers                plugin keys
=============================== =================================================
conv1_1 .. fc7                  backbone.*
<layer>_sem                     decode_head.* (the first task, ``gt_sem_seg``)
<layer>_geo                     task_heads.geo.* (the task ``geo``)
=============================== =================================================

as built by ``configs/fcn_skip_caffe/fcn*_vgg16-caffe_1xb1-*_siftflow-256x256.py``.
"""

from collections import OrderedDict
from typing import Iterable, Optional, Tuple

from ...datasets.siftflow import SIFTFLOW_GEO_CLASSES, SIFTFLOW_GEO_PALETTE
from .common import StateDict
from .fcn import caffe_fcn_to_mmseg, fcn_meta
from .released import identify_released_net, layer_names, released_meta
from .vgg import caffe_vgg_keys

#: Suffix of each task's layers -> the plugin's prefix of its head.
TASK_SUFFIXES = OrderedDict([('sem', 'decode_head'), ('geo', 'task_heads.geo')])
#: The task whose head is ``decode_head`` (the first task).
FIRST_SUFFIX = 'sem'
SIFTFLOW_DATASET = 'SiftFlowDataset'


def is_siftflow_fcn(keys: Iterable[str]) -> bool:
    """Whether a state dict has the layers of a SIFT Flow FCN (``score_fr_sem``)."""
    return 'score_fr_sem.weight' in set(keys)


def task_state_dict(state_dict: StateDict, suffix: str) -> StateDict:
    """The body and the layers suffixed ``_<suffix>``, without the suffix: a VOC-named
    FCN state dict."""
    body = set(caffe_vgg_keys(16))
    out = OrderedDict((key, value) for key, value in state_dict.items() if key in body)
    ending = f'_{suffix}'
    for key, value in state_dict.items():
        layer, _, param = key.rpartition('.')
        if layer.endswith(ending):
            out[f'{layer[: -len(ending)]}.{param}'] = value
    return out


def caffe_siftflow_to_mmseg(
    state_dict: StateDict, variant: Optional[str] = None, learn_upsample: bool = False
) -> Tuple[StateDict, str]:
    """Convert a SIFT Flow FCN state dict into ``MultiTaskEncoderDecoder``'s.

    Args:
        state_dict: The VGG16 body (``conv1_1`` .. ``fc7``) and both heads' layers,
            suffixed ``_sem`` and ``_geo`` (shapes as ``fcn.caffe_fcn_to_mmseg``
            with 33 and 3 classes).
        variant: ``'32s'``, ``'16s'`` or ``'8s'``, checked against the keys; default:
            from the keys.
        learn_upsample: Keep the upsampling weights (see ``caffe_fcn_to_mmseg``).

    Returns:
        tuple: The state dict (``backbone.*``, ``decode_head.*``,
        ``task_heads.geo.*``) and the variant.

    Raises:
        KeyError: naming layers that belong to neither head nor the body, or a
            head's missing layers.
        ValueError: if the two heads are of other variants, or the checks of
            ``caffe_fcn_to_mmseg`` fail for either head.
    """
    body = set(caffe_vgg_keys(16))
    suffixes = tuple(f'_{suffix}' for suffix in TASK_SUFFIXES)
    foreign = [
        key
        for key in state_dict
        if key not in body and not key.rpartition('.')[0].endswith(suffixes)
    ]
    if foreign:
        raise KeyError(
            f'layers {layer_names(foreign)} are neither VGG16 body layers nor suffixed '
            f'{" or ".join(suffixes)}; a SIFT Flow FCN has only these'
        )
    out: StateDict = OrderedDict()
    variants = {}
    for suffix, prefix in TASK_SUFFIXES.items():
        try:
            converted, variants[suffix] = caffe_fcn_to_mmseg(
                task_state_dict(state_dict, suffix), variant, learn_upsample
            )
        except KeyError as error:
            raise KeyError(f'the _{suffix} head: {error.args[0]}') from error
        for key, value in converted.items():
            if key.startswith('backbone.'):
                out.setdefault(key, value)
            else:
                out[prefix + key[len('decode_head') :]] = value
    if len(set(variants.values())) > 1:
        raise ValueError(
            f'the _sem head is an FCN-{variants["sem"]} but the _geo head an '
            f'FCN-{variants["geo"]}; a SIFT Flow FCN has one variant, check the file'
        )
    return out, variants[FIRST_SUFFIX]


def convert_siftflow_fcn(
    state_dict: StateDict,
    variant: Optional[str] = None,
    learn_upsample: bool = False,
    net: Optional[str] = None,
    dataset: Optional[str] = None,
) -> Tuple[StateDict, dict]:
    """``released.convert_caffe_fcn`` for a SIFT Flow FCN: state dict and meta.

    The meta is ``fcn_meta``'s with the released net's (``released_meta``), plus the
    geometric task's classes and palette in ``dataset_meta`` (``task_classes``,
    ``task_palettes``, as ``SiftFlowDataset`` has them).

    Raises:
        ValueError: if ``dataset`` is not ``'SiftFlowDataset'`` (the classes stay
            in the released order), or ``net`` is not the file's SIFT Flow net.
    """
    if dataset not in (None, SIFTFLOW_DATASET):
        raise ValueError(
            f'dataset={dataset!r}: a SIFT Flow FCN scores the classes of '
            f'{SIFTFLOW_DATASET} only; drop the dataset'
        )
    converted, variant = caffe_siftflow_to_mmseg(state_dict, variant, learn_upsample)
    meta = fcn_meta(converted, variant, learn_upsample)
    released = identify_released_net(
        task_state_dict(state_dict, FIRST_SUFFIX), net, variant, tasks=('geo',)
    )
    if released is None:
        return converted, meta
    meta.update(released_meta(released, SIFTFLOW_DATASET, released.classes))
    meta['dataset_meta'].update(
        task_classes=dict(geo=SIFTFLOW_GEO_CLASSES),
        task_palettes=dict(geo=[list(colour) for colour in SIFTFLOW_GEO_PALETTE]),
    )
    meta['tasks'] = dict(geo=len(SIFTFLOW_GEO_CLASSES))
    return converted, meta
