import pytest
import torch

from mmseg_fcn_skip.models.backbones.levels import (
    BackboneLevels,
    Window,
    backbone_levels,
    check_pad_mode,
    register_levels,
)
from mmseg_fcn_skip.models.geometry import Grid
from tests.helpers.alexnet_levels import ALEXNET, alexnet_layers


def test_a_window_gives_the_size_of_its_torch_layer():
    assert Window('pool', 3, 2, ceil=True).size(10, 'same') == 5  # ceil((10 - 3) / 2) + 1
    assert Window('pool', 3, 2).size(10, 'same') == 4
    assert Window('conv', 3, padding={'same': 1, 'caffe': 100}).size(10, 'caffe') == 208


def test_strides_follow_from_the_windows():
    assert ALEXNET.strides == (8, 16, 32, 32)
    assert ALEXNET.window('fc6').kernel == 6


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_a_second_backbone_describes_its_sizes(pad_mode):
    layers = alexnet_layers(pad_mode)
    for height, width in [(97, 64), (227, 300)]:
        x, got = torch.zeros(1, 1, height, width), []
        for window, layer in zip(ALEXNET.windows, layers):
            x = layer(x)
            if window.name in ALEXNET.names:
                got.append(tuple(x.shape[-2:]))
        assert got == list(zip(ALEXNET.sizes(pad_mode, height), ALEXNET.sizes(pad_mode, width)))


def test_grids_of_a_second_backbone():
    # conv1: centre 5 - 100 = -95; pool1 (3/2): -95 + 4 = -91; pool2 -91 + 8 = -83;
    # pool5 -83 + 16 = -67; fc6 (6x6): -67 + 32 * 5 / 2 = 13
    offsets = [float(grid.offset) for grid in ALEXNET.grids('caffe')]
    assert offsets == [-91.0, -83.0, -67.0, 13.0]
    assert ALEXNET.grids('caffe')[0] == Grid(8, -91)


def test_the_deepest_size_follows_a_finer_level():
    sizes = ALEXNET.sizes('caffe', 500)
    assert ALEXNET.deepest_size(0, sizes[0], 'caffe') == sizes[-1]
    assert ALEXNET.deepest_size(1, sizes[1], 'caffe') == sizes[-1]


def test_described_backbones_are_found_by_type_name():
    assert backbone_levels('FullyConvVGG').names[-1] == 'fc7'
    assert backbone_levels(ALEXNET) is ALEXNET
    with pytest.raises(
        ValueError, match=r"backbone_type='NoNet' is no described backbone.*register"
    ):
        backbone_levels('NoNet')
    registered = register_levels(
        BackboneLevels('TestRegistered', 'Test', [Window('fc7', 1)], ['fc7'], [8], '')
    )
    assert backbone_levels('TestRegistered') is registered


def test_unknown_pad_modes_name_the_pad_modes():
    with pytest.raises(ValueError, match=r"pad_mode='valid' is not supported.*'same', 'caffe'"):
        check_pad_mode('valid')
