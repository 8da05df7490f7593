"""The shared base of the fully convolutional backbones: argument checks, the levels
returned, freezing and norm evaluation, the same for VGG and AlexNet."""

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg_fcn_skip.models import FullyConvAlexNet, FullyConvVGG
from mmseg_fcn_skip.models.backbones.fully_conv import check_layer_cfg, check_positive_int


@pytest.mark.parametrize('value', [0, -3, 2.0, '4'])
def test_positive_int_check_names_the_argument(value):
    with pytest.raises(ValueError, match=rf'^fc_channels={value!r} must be a positive integer'):
        check_positive_int('fc_channels', value)


def test_one_channel_is_a_width():
    check_positive_int('fc_channels', 1)  # no error
    vgg = FullyConvVGG(depth=11, base_channels=1, fc_channels=1, out_indices=range(6))
    assert vgg.out_channels == (1, 2, 4, 8, 8, 1)
    assert [level.shape[1] for level in vgg(torch.rand(1, 3, 64, 64))] == [1, 2, 4, 8, 8, 1]
    alexnet = FullyConvAlexNet(channels=(2, 2, 2, 2, 2), fc_channels=1)
    assert alexnet.out_channels[-1] == 1


def test_layer_cfg_check_names_the_unknown_type():
    check_layer_cfg('norm_cfg', None)
    check_layer_cfg('norm_cfg', dict(type='BN'))
    with pytest.raises(ValueError, match="no layer type 'Nope' is registered"):
        check_layer_cfg('norm_cfg', dict(type='Nope'))


@pytest.mark.parametrize(
    'backbone',
    [
        lambda: FullyConvVGG(
            base_channels=4,
            fc_channels=8,
            out_indices=(2, 5),
            frozen_stages=5,
            norm_cfg=dict(type='BN'),
            norm_eval=True,
        ),
        lambda: FullyConvAlexNet(
            channels=(8, 8, 8, 8, 8),
            fc_channels=8,
            out_indices=(0, 3),
            frozen_stages=3,
            norm_cfg=dict(type='BN'),
            norm_eval=True,
        ),
    ],
    ids=['vgg', 'alexnet'],
)
def test_frozen_fully_connected_layers_and_norms_stay_so_in_training(backbone):
    model = backbone().train()
    assert not any(p.requires_grad for p in model.fc7.parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    levels = model(torch.rand(1, 3, 67, 45))
    assert tuple(level.shape[1] for level in levels) == model.out_channels
    assert len(model.out_strides) == 2 and model.out_strides[-1] == 32
