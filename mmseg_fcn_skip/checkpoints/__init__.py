"""Checkpoints: one reader, one fit decision, one conversion of published layouts.

- :mod:`.reader`: check a file's integrity and read its state dict (PyTorch
  files, mmengine checkpoints, ``.caffemodel`` files for the converters).
- :mod:`.fit`: whether and how a checkpoint fits a model (exact, staged, new
  classes, or refused with the fix), for ``load_from`` and for testing.
- :mod:`.layouts`: which published layout a state dict is in, and
  :func:`convert` into a plugin checkpoint, for the converter command lines and
  the weights cache alike.

Finding the checkpoint to resume from is in ``engine.resume``, next to the
atomic checkpoint writing.
"""

from .fit import (
    DROP_LAYERS_KEY,
    NEW_CLASSES,
    STAGED,
    Fit,
    check_exact_fit,
    check_fit,
    check_load_from,
    verify_checkpoint,
)
from .layouts import (
    CAFFE_FCN,
    CAFFE_VGG,
    CONVERTERS,
    LAYOUTS,
    TORCHVISION_VGG,
    Converted,
    convert,
    weights_layout,
)
from .reader import (
    CheckpointError,
    check_checkpoint_file,
    read_checkpoint,
    read_state_dict,
    read_weights,
    unwrap_state_dict,
)

__all__ = [
    'CAFFE_FCN',
    'CAFFE_VGG',
    'CONVERTERS',
    'CheckpointError',
    'Converted',
    'DROP_LAYERS_KEY',
    'Fit',
    'LAYOUTS',
    'NEW_CLASSES',
    'STAGED',
    'TORCHVISION_VGG',
    'check_checkpoint_file',
    'check_exact_fit',
    'check_fit',
    'check_load_from',
    'convert',
    'read_checkpoint',
    'read_state_dict',
    'read_weights',
    'unwrap_state_dict',
    'verify_checkpoint',
    'weights_layout',
]
