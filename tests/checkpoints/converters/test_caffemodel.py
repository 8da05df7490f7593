import re

import pytest
import torch

from mmseg_fcn_skip.checkpoints import read_weights
from mmseg_fcn_skip.checkpoints.converters import read_caffemodel
from tests.helpers.caffemodel_writer import (
    blob,
    caffemodel,
    field_bytes,
    field_varint,
    layer,
    v1_layer,
)


def _weights() -> dict:
    return {
        'conv1_1.weight': torch.randn(4, 3, 3, 3),
        'conv1_1.bias': torch.randn(4),
        'fc6.weight': torch.randn(5, 36),
        'fc6.bias': torch.randn(5),
        'upscore.weight': torch.randn(2, 2, 4, 4),
    }


TYPES = {'conv1_1': 'Convolution', 'fc6': 'InnerProduct', 'upscore': 'Deconvolution'}


def test_new_format_round_trip_skips_layers_without_weights():
    weights = _weights()
    read = read_caffemodel(caffemodel(weights, TYPES))
    assert list(read) == list(weights)
    for key, tensor in weights.items():
        assert read[key].dtype == torch.float32
        torch.testing.assert_close(read[key], tensor, rtol=0, atol=0)


def test_v1_format_restores_fully_connected_and_bias_shapes():
    weights = _weights()
    read = read_caffemodel(caffemodel(weights, TYPES, v1=True))
    assert read['fc6.weight'].shape == (5, 36)
    assert read['conv1_1.weight'].shape == (4, 3, 3, 3)
    assert read['conv1_1.bias'].shape == (4,)
    for key, tensor in weights.items():
        torch.testing.assert_close(read[key], tensor, rtol=0, atol=0)


@pytest.mark.parametrize('kwargs', [dict(packed=False), dict(double=True)])
def test_unpacked_and_double_data(kwargs):
    tensor = torch.randn(3, 2, 1, 1)
    data = layer('score', 'Convolution', [blob(tensor, **kwargs)])
    torch.testing.assert_close(read_caffemodel(data)['score.weight'], tensor)


def test_large_field_numbers_and_multibyte_lengths():
    tensor = torch.randn(64, 3, 3, 3)  # 6912 bytes: a 2-byte length varint
    data = field_bytes(1, b'x' * 300) + layer('conv', 'Convolution', [blob(tensor)])
    torch.testing.assert_close(read_caffemodel(data)['conv.weight'], tensor)


def test_read_weights_reads_caffemodel_files(tmp_path):
    path = tmp_path / 'net.caffemodel'
    path.write_bytes(caffemodel(_weights(), TYPES))
    assert sorted(read_weights(path)) == sorted(_weights())


@pytest.mark.parametrize(
    'data, match',
    [
        (layer('conv', 'Convolution', [blob(torch.ones(2, 2))])[:-3], 'truncated'),
        (b'\x0b', 'wire type 3'),
        (layer('s', 'Scale', [blob(torch.ones(1))] * 3), 'has 3 blobs'),
        (layer('c', 'Convolution', [blob(torch.ones(1))]) * 2, 'appears twice'),
        (
            v1_layer(
                'c', 4, [field_bytes(7, field_bytes(1, b'\x02\x03')) + field_bytes(5, b'\0' * 8)]
            ),
            r'shape \(2, 3\) holds 2 values',
        ),
    ],
)
def test_damaged_files_raise(data, match):
    with pytest.raises(ValueError, match=match):
        read_caffemodel(data)


def test_unpacked_blob_dims():
    shape = field_bytes(7, b''.join(bytes([1 << 3, d]) for d in (2, 3)))
    values = field_bytes(5, torch.arange(6.0).numpy().tobytes())
    data = v1_layer('c', 4, [shape + values])
    torch.testing.assert_close(read_caffemodel(data)['c.weight'], torch.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize('left_out', [1, 2, 3, 4])
def test_a_legacy_blob_missing_a_dimension_is_damaged(left_out):
    # legacy dims num, channels, height, width (fields 1-4) default to 0 when left out:
    # 6 values cannot fill a blob with a 0 in its shape, whatever the other dims
    dims = dict(zip((1, 2, 3, 4), (1, 1, 2, 3)))
    del dims[left_out]
    fields = b''.join(field_varint(k, d) for k, d in dims.items())
    data = v1_layer('c', 4, [fields + field_bytes(5, torch.arange(6.0).numpy().tobytes())])
    shape = tuple(0 if k == left_out else d for k, d in zip((1, 2, 3, 4), (1, 1, 2, 3)))
    with pytest.raises(ValueError, match=rf'shape {re.escape(str(shape))} holds 6 values'):
        read_caffemodel(data)
