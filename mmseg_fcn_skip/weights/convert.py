"""Turn a downloaded weights file into a checkpoint of the plugin's model.

The same converter functions and defaults as the ``tools/model_converters`` command
lines, so a checkpoint made here equals the one the matching command writes:

- torchvision VGG: ``torchvision_vgg2mmseg.py SRC DST`` (``--caffe-input`` for an
  entry whose convention is ``'caffe'``);
- Caffe VGG: ``caffe_vgg2mmseg.py SRC DST``;
- Caffe FCN: ``caffe_fcn2mmseg.py SRC DST --variant VARIANT``.
"""
from pathlib import Path
from typing import Optional

from ..converters import (backbone_meta, caffe_fcn_to_mmseg, caffe_vgg_to_mmseg,
                          fcn_meta, load_weights, make_checkpoint,
                          torchvision_vgg_to_mmseg)
from ..converters.common import StateDict
from ..utils.checkpoint import (CAFFE_FCN, CAFFE_VGG, TORCHVISION_VGG, read_state_dict,
                                weights_layout)
from .table import WeightsEntry


def read_weights(path: Path, layout: Optional[str]) -> StateDict:
    """The state dict of a downloaded file.

    A file of a known layout, and any ``.caffemodel``, is read as the converter
    command lines read it (``converters.load_weights``); any other PyTorch file as
    the tools read checkpoints (``utils.checkpoint.read_state_dict``, which also
    takes mmengine checkpoints), to tell its layout from its keys.
    """
    if layout is not None or Path(path).suffix == '.caffemodel':
        return load_weights(path)
    return read_state_dict(path)


def convert_weights(path: Path, entry: WeightsEntry) -> Optional[dict]:
    """The plugin checkpoint made from the weights file ``path`` of ``entry``.

    Args:
        path: The downloaded file.
        entry: Its table entry; without a layout the layout is read from the keys.

    Returns:
        dict: ``{'state_dict': ..., 'meta': ...}`` as ``make_checkpoint`` builds it,
        or None if the file is in none of the published layouts (it is then used
        as it is, like any checkpoint of the plugin).

    Raises:
        Exception: if the file cannot be read (``torch.load`` raises many types) or
            its keys and shapes are not those of its layout (``KeyError``,
            ``ValueError``: the converters' checks).
    """
    state_dict = read_weights(path, entry.layout)
    layout = entry.layout or weights_layout(state_dict)
    if layout == TORCHVISION_VGG:
        converted, depth, with_norm = torchvision_vgg_to_mmseg(state_dict)
        meta = backbone_meta(converted, entry.convention, depth, with_norm)
    elif layout == CAFFE_VGG:
        converted, depth = caffe_vgg_to_mmseg(state_dict)
        meta = backbone_meta(converted, 'caffe', depth, with_norm=False)
    elif layout == CAFFE_FCN:
        converted, variant = caffe_fcn_to_mmseg(state_dict, variant=entry.variant)
        meta = fcn_meta(converted, variant, learn_upsample=False)
    else:
        return None
    return make_checkpoint(converted, meta)
