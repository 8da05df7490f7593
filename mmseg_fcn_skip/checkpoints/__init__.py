"""Checkpoints: reading, compatibility with a model, published layouts, resuming, writing.

- :mod:`.reader`: check a file's integrity and read its state dict (PyTorch
  files, mmengine checkpoints, ``.caffemodel`` files for the converters).
- :mod:`.compatibility`: whether and how a state dict loads into a model (exact,
  staged, new classes, or refused with the fix), for ``load_from``, testing and
  inference.
- :mod:`.layouts`: which published layout a state dict is in, and :func:`convert`
  (:func:`convert_file`) into a plugin checkpoint, for the converter command lines
  and the weights cache alike; :mod:`.converters` holds one converter per layout.
- :mod:`.resume`: the newest intact checkpoint ``--resume`` continues from.
- :mod:`.atomic_io`: checkpoints written atomically (mmengine's ``'atomic_local'``
  file backend).
- :mod:`.safe_globals`: torch >= 2.6 loading mmengine's own training checkpoints.
"""

from .atomic_io import (
    AtomicLocalBackend,
    register_atomic_backend,
    use_atomic_checkpoints,
    write_atomic,
)
from .compatibility import (
    DROP_LAYERS_KEY,
    NEW_CLASSES,
    STAGED,
    WIDENED,
    Compatibility,
    check_compatible,
    check_exact_match,
    check_load_from,
    load_exact,
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
    convert_file,
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
from .resume import find_resume_checkpoint, resolve_resume
from .safe_globals import allow_mmengine_checkpoint_globals

__all__ = [
    'AtomicLocalBackend',
    'CAFFE_FCN',
    'CAFFE_VGG',
    'CONVERTERS',
    'CheckpointError',
    'Compatibility',
    'Converted',
    'DROP_LAYERS_KEY',
    'LAYOUTS',
    'NEW_CLASSES',
    'STAGED',
    'TORCHVISION_VGG',
    'WIDENED',
    'allow_mmengine_checkpoint_globals',
    'check_checkpoint_file',
    'check_compatible',
    'check_exact_match',
    'check_load_from',
    'convert',
    'convert_file',
    'find_resume_checkpoint',
    'load_exact',
    'read_checkpoint',
    'read_state_dict',
    'read_weights',
    'register_atomic_backend',
    'resolve_resume',
    'unwrap_state_dict',
    'use_atomic_checkpoints',
    'verify_checkpoint',
    'weights_layout',
    'write_atomic',
]
