"""Published weights layouts and their conversion into checkpoints of the plugin.

:func:`weights_layout` tells from a state dict's keys which published layout it is
in (torchvision VGG, Caffe VGG, Caffe FCN); :func:`convert` turns a state dict of a
layout into a plugin checkpoint (``state_dict`` and ``meta``) with the layout's
converter (:mod:`.converters`), and :func:`convert_file` does so for a file. The
converter command lines (``tools/model_converters``, named in ``CONVERTERS``) and
the weights cache (``mmseg_fcn_skip.weights``) both convert through them, so a file
converted either way gives the same checkpoint.
"""

import re
from typing import Iterable, NamedTuple, Optional

from .converters import (
    CAFFE_FCN_CONVERTER,
    CAFFE_VGG_CONVERTER,
    TORCHVISION_VGG_CONVERTER,
    backbone_meta,
    caffe_vgg_to_mmseg,
    make_checkpoint,
    torchvision_vgg_to_mmseg,
)
from .converters.alexnet import alexnet_fcn_meta, caffe_fcn_alexnet_to_mmseg, is_alexnet_fcn
from .converters.released import convert_caffe_fcn
from .converters.two_stream import convert_two_stream_fcn, is_two_stream_fcn
from .reader import PathLike, StateDict, read_weights

#: Layouts of published weights, as told apart by :func:`weights_layout`.
TORCHVISION_VGG = 'torchvision-vgg'
CAFFE_VGG = 'caffe-vgg'
CAFFE_FCN = 'caffe-fcn'
LAYOUTS = (TORCHVISION_VGG, CAFFE_VGG, CAFFE_FCN)
#: The converter command line for each layout.
CONVERTERS = {
    TORCHVISION_VGG: TORCHVISION_VGG_CONVERTER,
    CAFFE_VGG: CAFFE_VGG_CONVERTER,
    CAFFE_FCN: CAFFE_FCN_CONVERTER,
}
_TORCHVISION_KEY = re.compile(r'features\.\d+\.weight')


class Converted(NamedTuple):
    """A converted checkpoint and what it holds.

    Attributes:
        checkpoint (dict): ``{'state_dict': ..., 'meta': ...}`` as
            ``converters.make_checkpoint`` builds it, loadable by mmengine.
        meta (dict): Its meta (what the weights are, the settings they need).
    """

    checkpoint: dict
    meta: dict


def weights_layout(keys: Iterable[str]) -> Optional[str]:
    """The published layout whose keys a state dict has, if any.

    Args:
        keys: The state dict's keys.

    Returns:
        ``TORCHVISION_VGG`` (``features.N.weight``), ``CAFFE_FCN`` (``score_fr``;
        on VGG16, or on AlexNet with ``conv1``: ``converters.alexnet``; or
        ``conv1_1<s>`` and ``score_fr<s>`` per stream ``s``: ``converters.two_stream``;
        SIFT Flow's ``score_fr_sem``: ``converters.siftflow``),
        ``CAFFE_VGG`` (``conv1_1`` without ``score_fr``), or None for any other
        layout, such as the plugin's own checkpoints. ``CONVERTERS`` names the
        converter of each.
    """
    keys = set(keys)
    if any(_TORCHVISION_KEY.fullmatch(key) for key in keys):
        return TORCHVISION_VGG
    if 'score_fr.weight' in keys or 'score_fr_sem.weight' in keys or is_two_stream_fcn(keys):
        return CAFFE_FCN
    if 'conv1_1.weight' in keys:
        return CAFFE_VGG
    return None


def convert(
    state_dict: StateDict,
    layout: str,
    convention: str = 'torchvision',
    variant: Optional[str] = None,
    learn_upsample: bool = False,
    net: Optional[str] = None,
    dataset: Optional[str] = None,
) -> Converted:
    """Convert a state dict of a published layout into a plugin checkpoint.

    Args:
        state_dict: The published weights, e.g. from ``reader.read_weights``.
        layout: One of ``LAYOUTS``.
        convention: Input the ImageNet weights expect (``'torchvision'`` or
            ``'caffe'``), recorded in the meta; torchvision-layout files only
            (Caffe files always expect Caffe's input).
        variant: FCN variant of a Caffe FCN, checked against its keys (see
            ``converters.caffe_fcn_to_mmseg``); None: read from the keys.
        learn_upsample: Keep a Caffe FCN's upsampling weights as learnable
            weights instead of requiring bilinear kernels.
        net: The released FCN a Caffe FCN file is (``converters.released``); needed
            for NYUDv2's colour and HHA nets, read from the shapes for the others.
        dataset: The dataset type whose classes a released FCN's converted scores
            follow (default: the net's own).

    Raises:
        KeyError, ValueError: the converters' checks of keys and shapes, or an
            unknown layout.
    """
    if layout == TORCHVISION_VGG:
        converted, depth, with_norm = torchvision_vgg_to_mmseg(state_dict)
        meta = backbone_meta(converted, convention, depth, with_norm)
    elif layout == CAFFE_VGG:
        converted, depth = caffe_vgg_to_mmseg(state_dict)
        meta = backbone_meta(converted, 'caffe', depth, with_norm=False)
    elif layout == CAFFE_FCN and is_alexnet_fcn(state_dict):
        converted, _ = caffe_fcn_alexnet_to_mmseg(state_dict, variant, learn_upsample)
        meta = alexnet_fcn_meta(converted, learn_upsample)
    elif layout == CAFFE_FCN and is_two_stream_fcn(state_dict):
        converted, meta = convert_two_stream_fcn(state_dict, variant, learn_upsample, net, dataset)
    elif layout == CAFFE_FCN:
        converted, meta = convert_caffe_fcn(state_dict, variant, learn_upsample, net, dataset)
    else:
        raise ValueError(f'layout={layout!r} is not supported; use one of {LAYOUTS}')
    return Converted(make_checkpoint(converted, meta), meta)


def convert_file(
    path: PathLike,
    layout: Optional[str] = None,
    convention: str = 'torchvision',
    variant: Optional[str] = None,
    net: Optional[str] = None,
) -> Optional[dict]:
    """The plugin checkpoint made from the weights file ``path``.

    The file is read and converted as the ``tools/model_converters`` command lines
    do, so the checkpoint equals the one the matching command writes:
    ``torchvision_vgg2mmseg.py SRC DST`` (``--caffe-input`` for the ``'caffe'``
    convention), ``caffe_vgg2mmseg.py SRC DST``, ``caffe_fcn2mmseg.py SRC DST
    --variant VARIANT``.

    Args:
        path: The weights file (``.pth`` or ``.caffemodel``).
        layout: One of ``LAYOUTS``; None: read from the keys (:func:`weights_layout`).
        convention: See :func:`convert`.
        variant: See :func:`convert`.
        net: See :func:`convert` (``--net NAME``).

    Returns:
        dict: ``{'state_dict': ..., 'meta': ...}`` as ``make_checkpoint`` builds it,
        or None if ``layout`` is None and the file is in none of the published
        layouts (it is then used as it is, like any checkpoint of the plugin).

    Raises:
        CheckpointError: if the file cannot be read.
        KeyError, ValueError: if its keys and shapes are not those of its layout
            (the converters' checks).
    """
    # A file of a published layout holds tensors only; any other file may be a
    # plugin checkpoint, read as the tools read them (mmengine pickles its objects).
    state_dict = read_weights(path, allow_pickle=layout is None)
    layout = layout or weights_layout(state_dict)
    if layout is None:
        return None
    return convert(state_dict, layout, convention=convention, variant=variant, net=net).checkpoint
