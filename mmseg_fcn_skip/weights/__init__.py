"""Published weights by short name or URL, wherever a checkpoint goes.

``WEIGHTS`` lists the published files the configs use (torchvision's VGG 11-19 with
and without BN, Caffe's VGG16, the released VGG16 FCNs of PASCAL VOC, PASCAL-Context
and NYUDv2) with URL, layout and checksums. :func:`resolve_checkpoint` turns a path, short name or http(s) URL into a
local checkpoint file of the plugin, downloading, checking and converting on first
use (:mod:`.fetch`). Importing the plugin also makes mmengine's checkpoint loading
accept the names and URLs (:mod:`.loader`), so ``init_cfg``, ``load_from`` and
``mmseg.apis.init_model`` take them as well.
"""

from .download import WeightsError
from .fetch import MIRROR_VARIABLE, cache_paths, fetch_checkpoint, manual_fix, resolve_checkpoint
from .loader import load_from_fcn_weights, register_checkpoint_loader
from .table import WEIGHTS, WeightsEntry, find_weights

__all__ = [
    'MIRROR_VARIABLE',
    'WEIGHTS',
    'WeightsEntry',
    'WeightsError',
    'cache_paths',
    'fetch_checkpoint',
    'find_weights',
    'load_from_fcn_weights',
    'manual_fix',
    'register_checkpoint_loader',
    'resolve_checkpoint',
]
