"""A minimal protobuf encoder writing ``caffe.NetParameter`` files for the tests.

Field numbers (caffe.proto): NetParameter.layer = 100 / .layers = 2 (V1);
LayerParameter name 1, type 2, blobs 7; V1LayerParameter name 4, type 5 (enum),
blobs 6; BlobProto shape 7 (BlobShape.dim = 1), data 5, double_data 8, legacy
num/channels/height/width 1..4.

Messages are built as lists of byte chunks and joined once, so that nets of the
real VGG16 size (half a gigabyte) encode in about a second.
"""

from typing import Dict, List, Sequence, Tuple, Union

import torch

V1_INNER_PRODUCT = 14
V1_CONVOLUTION = 4
Chunks = List[Union[bytes, memoryview]]


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length(chunks: Chunks) -> int:
    return sum(len(c) if isinstance(c, bytes) else c.nbytes for c in chunks)


def field_chunks(number: int, chunks: Chunks) -> Chunks:
    """A length-delimited field holding ``chunks``."""
    return [varint(number << 3 | 2), varint(_length(chunks))] + list(chunks)


def field_bytes(number: int, payload: bytes) -> bytes:
    return b''.join(field_chunks(number, [payload]))


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def blob_chunks(
    tensor: torch.Tensor, legacy: bool = False, packed: bool = True, double: bool = False
) -> Chunks:
    """A BlobProto: modern shape or legacy 4-D dims; packed or unpacked values."""
    array = tensor.detach().contiguous().numpy()
    if legacy:
        dims = (1,) * (4 - array.ndim) + array.shape
        out: Chunks = [b''.join(field_varint(k + 1, d) for k, d in enumerate(dims))]
    else:
        out = [field_bytes(7, field_bytes(1, b''.join(varint(d) for d in array.shape)))]
    if double:
        return out + field_chunks(8, [array.astype('<f8').tobytes()])
    if packed:
        values = memoryview(array.astype('<f4', copy=False)).cast('B')
        return out + field_chunks(5, [values])
    tag = varint(5 << 3 | 5)
    return out + [b''.join(tag + v.tobytes() for v in array.astype('<f4').ravel())]


def blob(tensor: torch.Tensor, **kwargs) -> bytes:
    return b''.join(blob_chunks(tensor, **kwargs))


def layer_chunks(name: str, layer_type: str, blobs: Sequence[Chunks]) -> Chunks:
    """A LayerParameter (new format) as a NetParameter field."""
    body: Chunks = [
        field_bytes(1, name.encode()),
        field_bytes(2, layer_type.encode()),
        field_bytes(3, b'bottom'),
    ]
    for chunks in blobs:
        body += field_chunks(7, chunks)
    return field_chunks(100, body)


def v1_layer_chunks(name: str, layer_type: int, blobs: Sequence[Chunks]) -> Chunks:
    """A V1LayerParameter (pre-2015 format) as a NetParameter field."""
    body: Chunks = [
        field_bytes(2, b'bottom'),
        field_bytes(4, name.encode()),
        field_varint(5, layer_type),
    ]
    for chunks in blobs:
        body += field_chunks(6, chunks)
    return field_chunks(2, body)


def layer(name: str, layer_type: str, blobs: Sequence[bytes]) -> bytes:
    return b''.join(layer_chunks(name, layer_type, [[b] for b in blobs]))


def v1_layer(name: str, layer_type: int, blobs: Sequence[bytes]) -> bytes:
    return b''.join(v1_layer_chunks(name, layer_type, [[b] for b in blobs]))


def caffemodel(
    weights: Dict[str, torch.Tensor], layer_types: Dict[str, str], v1: bool = False
) -> bytes:
    """A NetParameter holding ``{layer}.weight`` / ``{layer}.bias`` of ``weights``.

    ``layer_types`` gives each layer's type ('Convolution', 'InnerProduct',
    'Deconvolution', 'Scale'); V1 files store weights with legacy 4-D dims. New
    format files also get a ReLU layer (no weights) after each layer.
    """
    chunks: Chunks = [field_bytes(1, b'net')]
    layers: List[Tuple[str, List[torch.Tensor]]] = []
    for key, tensor in weights.items():
        name = key.rsplit('.', 1)[0]
        if not layers or layers[-1][0] != name:
            layers.append((name, []))
        layers[-1][1].append(tensor)
    for name, tensors in layers:
        if v1:
            fully_connected = layer_types[name] == 'InnerProduct'
            kind = V1_INNER_PRODUCT if fully_connected else V1_CONVOLUTION
            chunks += v1_layer_chunks(name, kind, [blob_chunks(t, legacy=True) for t in tensors])
        else:
            blobs = [blob_chunks(t) for t in tensors]
            chunks += layer_chunks(name, layer_types[name], blobs)
            chunks += layer_chunks('relu_' + name, 'ReLU', [])
    return b''.join(chunks)
