"""checkpoints.layouts: which published layout a state dict is in, its converter, and
convert_file(): the converters' results, by the given layout or the keys."""

from pathlib import Path

import pytest
import torch

from mmseg_fcn_skip.checkpoints import (
    CAFFE_FCN,
    CAFFE_VGG,
    CONVERTERS,
    LAYOUTS,
    TORCHVISION_VGG,
    convert,
    convert_file,
    weights_layout,
)
from mmseg_fcn_skip.checkpoints.converters.vgg import (
    CAFFE_PREPROCESSOR,
    TORCHVISION_PREPROCESSOR,
)
from tests.helpers.light_models import light_model
from tests.helpers.reference_nets import caffe_vgg16, fcn_head, torchvision_vgg

REPO = Path(__file__).resolve().parents[2]
# Weight generators shared with the converter tests.


@pytest.fixture
def vgg11_file(tmp_path):
    """A torchvision-layout VGG11 file (real keys and conv shapes, fc6/fc7 of 64)."""
    path = tmp_path / 'vgg11.pth'
    torch.save(torchvision_vgg(11, False, fc_channels=64), path)
    return path


def _caffe_vgg16():
    return caffe_vgg16(torch.Generator().manual_seed(0), fc_channels=8)


# which layout


@pytest.mark.parametrize('with_norm', [False, True])
def test_torchvision_vgg_weights_are_told_by_their_features_keys(with_norm):
    assert weights_layout(torchvision_vgg(11, with_norm)) == TORCHVISION_VGG


def test_caffe_vgg_weights_are_told_by_conv1_1():
    assert weights_layout(_caffe_vgg16()) == CAFFE_VGG


@pytest.mark.parametrize('variant', ['32s', '16s', '8s'])
def test_caffe_fcn_weights_are_told_by_score_fr(variant):
    generator = torch.Generator().manual_seed(0)
    weights = dict(_caffe_vgg16(), **fcn_head(variant, 21, generator, fc_channels=8))
    assert weights_layout(weights) == CAFFE_FCN


def test_a_plugin_checkpoint_is_in_no_published_layout():
    model = light_model()
    assert weights_layout(model.state_dict()) is None
    assert weights_layout(model.backbone.state_dict()) is None
    assert weights_layout([]) is None


def test_each_layout_names_its_converter_command_line():
    assert set(CONVERTERS) == set(LAYOUTS)
    assert CONVERTERS == {
        TORCHVISION_VGG: 'tools/model_converters/torchvision_vgg2mmseg.py',
        CAFFE_VGG: 'tools/model_converters/caffe_vgg2mmseg.py',
        CAFFE_FCN: 'tools/model_converters/caffe_fcn2mmseg.py',
    }
    assert all((REPO / tool).is_file() for tool in CONVERTERS.values())


def test_an_unknown_layout_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="layout='timm-vgg' is not supported; use one of"):
        convert(_caffe_vgg16(), 'timm-vgg')


# converting a file


def test_the_convention_goes_into_the_meta(vgg11_file):
    by_keys = convert_file(vgg11_file)
    caffe = convert_file(vgg11_file, TORCHVISION_VGG, convention='caffe')
    assert by_keys['meta']['data_preprocessor'] == TORCHVISION_PREPROCESSOR
    assert caffe['meta']['data_preprocessor'] == CAFFE_PREPROCESSOR
    assert by_keys['meta']['backbone']['depth'] == 11
    assert len(by_keys['state_dict']) == 2 * 8 + 4  # 8 convs, fc6, fc7


def test_a_wrong_layout_fails_with_the_converter_message(vgg11_file):
    with pytest.raises(KeyError, match='Caffe VGG has conv1_\\* .. conv5_\\*'):
        convert_file(vgg11_file, CAFFE_VGG)


def test_a_checkpoint_of_the_plugin_is_not_converted(tmp_path):
    path = tmp_path / 'fcn.pth'
    torch.save({'state_dict': {'decode_head.conv_seg.weight': torch.ones(2, 3, 1, 1)}}, path)
    assert convert_file(path) is None
