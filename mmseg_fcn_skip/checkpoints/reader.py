"""Reading checkpoint and weights files: one reader for the tools and the converters.

mmengine loads checkpoints non-strictly and a damaged file fails deep inside
``torch.load`` without naming it. The functions here check the file first and
fail with the file and what is wrong with it:

- :func:`check_checkpoint_file`: the file exists and is intact (every zip
  record's CRC, for PyTorch's format), without unpickling it.
- :func:`read_checkpoint` / :func:`read_state_dict`: check a PyTorch file and
  return its state dict (and ``meta``), unwrapped (:func:`unwrap_state_dict`).
- :func:`read_weights`: the same, and ``.caffemodel`` files decoded, for the
  converters.
"""

import pickle
import re
import zipfile
import zlib
from pathlib import Path
from typing import Dict, Mapping, Tuple, Union

import torch

from .converters import CAFFE_FCN_CONVERTER, CAFFE_VGG_CONVERTER, read_caffemodel

PathLike = Union[str, Path]
StateDict = Dict[str, torch.Tensor]

#: Keys under which training frameworks commonly nest a state dict.
WRAPPER_KEYS = ('state_dict', 'model_state_dict', 'model')
#: How many keys of each kind a message lists.
MAX_LISTED_KEYS = 6
_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTOCOL_OPCODE = 0x80


class CheckpointError(ValueError):
    """A checkpoint file is damaged, unreadable or does not fit the model."""


def check_checkpoint_file(path: PathLike) -> None:
    """Check that ``path`` is a complete, undamaged PyTorch checkpoint file.

    For PyTorch's zip format every record is read and its CRC-32 compared,
    which finds files cut off while being written and flipped bytes, without
    unpickling anything. Files in the legacy (pickle) format are only checked
    to be non-empty. Caffe models are recognised and sent to the converters.

    Raises:
        CheckpointError: naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'checkpoint {path} does not exist; check the path')
    with path.open('rb') as file:
        head = file.read(4)
    if not head:
        raise CheckpointError(
            f'checkpoint {path} is empty (0 bytes): it was cut off while being '
            'written; use an earlier checkpoint'
        )
    if head == _ZIP_MAGIC:
        _check_zip_records(path)
    elif head[0] != _PICKLE_PROTOCOL_OPCODE:
        raise CheckpointError(f'{path} is not a PyTorch checkpoint{_caffe_hint(path)}')


def read_state_dict(path: PathLike) -> StateDict:
    """Check ``path`` and return its state dict (tensors memory-mapped, on CPU).

    Accepts a plain state dict or one nested under a key of ``WRAPPER_KEYS``
    (mmengine checkpoints use ``state_dict``); the ``module.`` prefix of
    (Distributed)DataParallel is dropped.

    Raises:
        CheckpointError: if the file is damaged or holds no state dict.
    """
    return read_checkpoint(path)[0]


def read_checkpoint(path: PathLike, allow_pickle: bool = True) -> Tuple[StateDict, dict]:
    """Like :func:`read_state_dict`, but also return the checkpoint's ``meta``.

    The meta is empty for a plain state dict.

    Args:
        path: The file.
        allow_pickle: Unpickle other objects than tensors if the file holds
            them (mmengine's training checkpoints do, and mmengine's runner
            loads them so too). False for weights from elsewhere: only tensors
            and plain values are read (``torch.load(weights_only=True)``).

    Raises:
        CheckpointError: if the file is damaged or holds no state dict.
    """
    check_checkpoint_file(path)
    checkpoint = _torch_load(Path(path), allow_pickle)
    try:
        state_dict = unwrap_state_dict(checkpoint)
    except ValueError as error:
        raise CheckpointError(f'checkpoint {path} {error}') from None
    meta = checkpoint.get('meta') if state_dict is not checkpoint else None
    state_dict = {re.sub(r'^module\.', '', key): value for key, value in state_dict.items()}
    return state_dict, dict(meta) if isinstance(meta, Mapping) else {}


def read_weights(path: PathLike, allow_pickle: bool = False) -> StateDict:
    """The state dict of a weights file to convert: a ``.caffemodel`` (decoded
    without Caffe, see ``checkpoints.converters.caffemodel``) or a PyTorch file
    (:func:`read_checkpoint`; tensors and plain values only unless
    ``allow_pickle``).

    Raises:
        CheckpointError: if the file is missing, damaged or holds no state dict.
    """
    path = Path(path)
    if path.suffix != '.caffemodel':
        return read_checkpoint(path, allow_pickle)[0]
    if not path.is_file():
        raise CheckpointError(
            f'{path} does not exist; give the path of the weights file to convert'
        )
    return read_caffemodel(path.read_bytes())


def unwrap_state_dict(checkpoint: object) -> StateDict:
    """The state dict held by a loaded checkpoint: the checkpoint itself if it
    is a dict of tensors, else the one nested under a key of ``WRAPPER_KEYS``.

    The returned object is ``checkpoint`` itself for a plain state dict.

    Raises:
        ValueError: if no state dict is found; the message starts with
            ``'holds no state dict'`` and names what was found.
    """
    if isinstance(checkpoint, Mapping):
        if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
            return checkpoint
        for key in WRAPPER_KEYS:
            if isinstance(checkpoint.get(key), Mapping):
                return unwrap_state_dict(checkpoint[key])
    raise ValueError(
        'holds no state dict (a dict of tensors, directly or under one of '
        f'{WRAPPER_KEYS}); found {type(checkpoint).__name__}{_top_keys(checkpoint)}'
    )


def _check_zip_records(path: Path) -> None:
    """Read every record of a zip checkpoint, so zipfile checks its CRC-32."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as record:
                    while record.read(1 << 24):
                        pass
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise CheckpointError(
            f'checkpoint {path} is damaged ({error}): it was probably cut off '
            'while being written, or corrupted on disk; use an earlier '
            'checkpoint'
        ) from error


def _torch_load(path: Path, allow_pickle: bool) -> object:
    """``torch.load`` on CPU, memory-mapped; pickled objects only if needed and
    allowed."""
    kwargs = dict(map_location='cpu', mmap=zipfile.is_zipfile(path))
    try:
        try:
            return torch.load(path, weights_only=True, **kwargs)
        except pickle.UnpicklingError:
            if not allow_pickle:
                raise
            # mmengine checkpoints pickle its own objects (the message hub),
            # as the runner itself loads them.
            return torch.load(path, weights_only=False, **kwargs)
    except Exception as error:  # torch.load raises many types for bad files
        raise CheckpointError(
            f'checkpoint {path} cannot be loaded ({type(error).__name__}: '
            f'{error}){_caffe_hint(path)}'
        ) from error


def _caffe_hint(path: Path) -> str:
    if path.suffix != '.caffemodel':
        return ''
    return (
        f'; it is a Caffe model: convert it with {CAFFE_FCN_CONVERTER} '
        f'(FCN weights) or {CAFFE_VGG_CONVERTER} (ImageNet VGG weights)'
    )


def _top_keys(checkpoint: object) -> str:
    if not isinstance(checkpoint, Mapping):
        return ''
    return f' with keys {sorted(map(str, checkpoint))[:MAX_LISTED_KEYS]}'
