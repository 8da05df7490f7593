"""convert_weights(): the converters' results, by the entry's layout or the keys."""

import pytest
import torch

from mmseg_fcn_skip.checkpoints import CAFFE_VGG, TORCHVISION_VGG
from mmseg_fcn_skip.converters.vgg import CAFFE_PREPROCESSOR, TORCHVISION_PREPROCESSOR
from mmseg_fcn_skip.weights import WeightsEntry
from mmseg_fcn_skip.weights.convert import convert_weights

URL = 'http://127.0.0.1:1/vgg11.pth'


@pytest.fixture
def vgg11_file(tmp_path, vgg11_bytes):
    path = tmp_path / 'vgg11.pth'
    path.write_bytes(vgg11_bytes)
    return path


def test_the_entry_convention_goes_into_the_meta(vgg11_file):
    by_keys = convert_weights(vgg11_file, WeightsEntry(url=URL))
    caffe = convert_weights(
        vgg11_file, WeightsEntry(url=URL, layout=TORCHVISION_VGG, convention='caffe')
    )
    assert by_keys['meta']['data_preprocessor'] == TORCHVISION_PREPROCESSOR
    assert caffe['meta']['data_preprocessor'] == CAFFE_PREPROCESSOR
    assert by_keys['meta']['backbone']['depth'] == 11
    assert len(by_keys['state_dict']) == 2 * 8 + 4  # 8 convs, fc6, fc7


def test_a_wrong_layout_fails_with_the_converter_message(vgg11_file):
    with pytest.raises(KeyError, match='Caffe VGG has conv1_\\* .. conv5_\\*'):
        convert_weights(vgg11_file, WeightsEntry(url=URL, layout=CAFFE_VGG))


def test_a_checkpoint_of_the_plugin_is_not_converted(tmp_path):
    path = tmp_path / 'fcn.pth'
    torch.save({'state_dict': {'decode_head.conv_seg.weight': torch.ones(2, 3, 1, 1)}}, path)
    assert convert_weights(path, WeightsEntry(url=URL)) is None
