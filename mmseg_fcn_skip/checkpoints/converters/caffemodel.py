"""Read the weights of a Caffe ``.caffemodel`` file without Caffe.

A ``.caffemodel`` is a serialized ``caffe.NetParameter`` protocol buffer. Only the
fields that carry weights are decoded, straight from the protobuf wire format:

- ``NetParameter``: ``layer = 100`` (``LayerParameter``), or ``layers = 2``
  (``V1LayerParameter``, in files written before 2015, e.g. VGG16's).
- ``LayerParameter``: ``name = 1``, ``type = 2`` (string), ``blobs = 7``.
- ``V1LayerParameter``: ``name = 4``, ``type = 5`` (enum, 14 = INNER_PRODUCT),
  ``blobs = 6``.
- ``BlobProto``: ``shape = 7`` (``BlobShape``: ``dim = 1``), ``data = 5`` (float32),
  ``double_data = 8`` (float64), and the legacy 4-D shape ``num = 1``,
  ``channels = 2``, ``height = 3``, ``width = 4``.

Layer ``L``'s first blob becomes ``L.weight``, its second ``L.bias``: the naming of
the reference FCN nets and of ``caffe_vgg_to_mmseg``/``caffe_fcn_to_mmseg``.
"""

from collections import OrderedDict
from typing import Dict, Iterator, List, Tuple, Union

import numpy as np
import torch
from torch import Tensor

WIRE_VARINT, WIRE_64BIT, WIRE_BYTES, WIRE_32BIT = 0, 1, 2, 5
#: (name, type, blobs) field numbers of LayerParameter and of V1LayerParameter.
LAYER_FIELDS = {100: (1, 2, 7), 2: (4, 5, 6)}
INNER_PRODUCT = ('InnerProduct', 14)
BLOB_NAMES = ('weight', 'bias')

Value = Union[int, memoryview]


def read_caffemodel(data: Union[bytes, bytearray]) -> Dict[str, Tensor]:
    """Weights of every layer of a serialized ``NetParameter``.

    Args:
        data (bytes): The contents of a ``.caffemodel`` file.

    Returns:
        dict[str, Tensor]: ``{layer}.weight`` and ``{layer}.bias`` (float32) for each
        layer with weights, in file order. Fully connected weights stored in the
        legacy shape ``(1, 1, out, in)`` are returned as ``(out, in)``; biases are 1-D.

    Raises:
        ValueError: if the data is not a protocol buffer, a layer has more than two
            blobs or appears twice, or a blob's shape does not match its data.
    """
    weights: Dict[str, Tensor] = OrderedDict()
    for field, _, value in _fields(memoryview(data)):
        if field not in LAYER_FIELDS or not isinstance(value, memoryview):
            continue
        name, layer_type, blobs = _layer(value, *LAYER_FIELDS[field])
        if not blobs:
            continue
        if len(blobs) > len(BLOB_NAMES):
            raise ValueError(
                f'layer {name!r} has {len(blobs)} blobs; only layers with '
                'a weight and an optional bias (VGG, FCN) are supported'
            )
        if f'{name}.weight' in weights:
            raise ValueError(f'layer {name!r} appears twice with weights')
        for index, blob in enumerate(blobs):
            if index == 1:
                blob = blob.flatten()
            elif layer_type in INNER_PRODUCT and _is_legacy_matrix(blob):
                blob = blob[0, 0]
            weights[f'{name}.{BLOB_NAMES[index]}'] = blob
    return weights


def _is_legacy_matrix(blob: Tensor) -> bool:
    """Whether a fully connected weight is stored in the legacy ``(1, 1, out, in)``."""
    return blob.dim() == 4 and tuple(blob.shape[:2]) == (1, 1)


def _layer(
    message: memoryview, name_field: int, type_field: int, blobs_field: int
) -> Tuple[str, Union[str, int, None], List[Tensor]]:
    name, layer_type, blobs = '', None, []
    for field, wire, value in _fields(message):
        if field == name_field and wire == WIRE_BYTES:
            name = bytes(value).decode()
        elif field == type_field:
            layer_type = value if wire == WIRE_VARINT else bytes(value).decode()
        elif field == blobs_field and wire == WIRE_BYTES:
            blobs.append(_blob(value))
    return name, layer_type, blobs


def _blob(message: memoryview) -> Tensor:
    """Decode a ``BlobProto`` into a float32 tensor of its shape."""
    shape: List[int] = []
    legacy = {1: 0, 2: 0, 3: 0, 4: 0}
    chunks: List[np.ndarray] = []
    for field, wire, value in _fields(message):
        if field == 7 and wire == WIRE_BYTES:
            shape = _ints(value)
        elif field in legacy and wire == WIRE_VARINT:
            legacy[field] = value
        elif field == 5 and wire in (WIRE_BYTES, WIRE_32BIT):
            chunks.append(np.frombuffer(value, dtype='<f4'))
        elif field == 8 and wire in (WIRE_BYTES, WIRE_64BIT):
            chunks.append(np.frombuffer(value, dtype='<f8'))
    if not shape:
        shape = [legacy[k] for k in (1, 2, 3, 4)]
    if len(chunks) == 1:  # packed data: a single view, no concatenation copy
        values = chunks[0]
    else:
        values = np.concatenate(chunks) if chunks else np.zeros(0, dtype='<f4')
    if values.size != int(np.prod(shape)):
        raise ValueError(
            f'a blob of shape {tuple(shape)} holds {values.size} values; '
            'the file is damaged or not a caffemodel'
        )
    return torch.from_numpy(values.astype(np.float32).reshape(shape))


def _ints(message: memoryview) -> List[int]:
    """The ``dim`` values of a ``BlobShape``, packed or not."""
    dims = []
    for field, wire, value in _fields(message):
        if field != 1:
            continue
        if wire == WIRE_VARINT:
            dims.append(value)
        else:
            pos = 0
            while pos < len(value):
                dim, pos = _varint(value, pos)
                dims.append(dim)
    return dims


def _fields(message: memoryview) -> Iterator[Tuple[int, int, Value]]:
    """Yield ``(field number, wire type, value)`` for each field of a message.

    Varints are returned as ints, everything else as a view of its bytes.
    """
    pos, end = 0, len(message)
    while pos < end:
        key, pos = _varint(message, pos)
        field, wire = key >> 3, key & 7
        if wire == WIRE_VARINT:
            value, pos = _varint(message, pos)
        else:
            if wire == WIRE_BYTES:
                size, pos = _varint(message, pos)
            elif wire in (WIRE_64BIT, WIRE_32BIT):
                size = 8 if wire == WIRE_64BIT else 4
            else:
                raise ValueError(
                    f'protobuf wire type {wire} at byte {pos} is not '
                    'used by caffemodels: is this a .caffemodel file?'
                )
            if pos + size > end:
                raise ValueError(
                    'the caffemodel ends in the middle of a field: the file is truncated'
                )
            value = message[pos : pos + size]
            pos += size
        yield field, wire, value


def _varint(message: memoryview, pos: int) -> Tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(message):
            raise ValueError('the caffemodel ends in the middle of a number: the file is truncated')
        byte = message[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
