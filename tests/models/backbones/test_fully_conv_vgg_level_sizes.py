import pytest
import torch

from mmseg_fcn_skip.models import FullyConvVGG
from mmseg_fcn_skip.models.geometry import level_sizes


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_level_sizes_are_those_of_the_backbone(pad_mode):
    vgg = FullyConvVGG(pad_mode=pad_mode, base_channels=2, fc_channels=2, out_indices=range(6))
    for height, width in [(1, 1), (2, 31), (32, 33), (63, 96), (101, 7)]:
        with torch.no_grad():
            outputs = vgg(torch.zeros(1, 3, height, width))
        got = [tuple(out.shape[-2:]) for out in outputs]
        expected = zip(level_sizes(pad_mode, height), level_sizes(pad_mode, width))
        assert got == list(expected)


def test_level_sizes_by_hand():
    assert level_sizes('same', 500) == (250, 125, 63, 32, 16, 16)
    assert level_sizes('caffe', 500) == (349, 175, 88, 44, 22, 16)
