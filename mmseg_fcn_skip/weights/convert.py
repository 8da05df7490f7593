"""Turn a downloaded weights file into a checkpoint of the plugin's model.

The file is read and converted as the ``tools/model_converters`` command lines do
(``checkpoints.read_weights`` and ``checkpoints.convert``), so a checkpoint made
here equals the one the matching command writes:

- torchvision VGG: ``torchvision_vgg2mmseg.py SRC DST`` (``--caffe-input`` for an
  entry whose convention is ``'caffe'``);
- Caffe VGG: ``caffe_vgg2mmseg.py SRC DST``;
- Caffe FCN: ``caffe_fcn2mmseg.py SRC DST --variant VARIANT`` (``--net NAME`` for
  an entry named after a released net, see ``converters.released``).
"""

from pathlib import Path
from typing import Optional

from ..checkpoints import convert, read_weights, weights_layout
from ..converters.released import RELEASED_NETS
from .table import WeightsEntry


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
        Exception: if the file cannot be read (``CheckpointError``) or its keys and
            shapes are not those of its layout (``KeyError``, ``ValueError``: the
            converters' checks).
    """
    # A file of a published layout holds tensors only; any other file may be a
    # plugin checkpoint, read as the tools read them (mmengine pickles its objects).
    state_dict = read_weights(path, allow_pickle=entry.layout is None)
    layout = entry.layout or weights_layout(state_dict)
    if layout is None:
        return None
    net = entry.name if entry.name in RELEASED_NETS else None
    return convert(
        state_dict, layout, convention=entry.convention, variant=entry.variant, net=net
    ).checkpoint
