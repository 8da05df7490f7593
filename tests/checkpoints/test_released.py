"""A converted released net meets a model built from its own config, and is refused by
the config of another net, the message naming both (checkpoints/released.py)."""

import pytest
import torch
from mmengine.model import BaseDataPreprocessor
from mmseg.apis import init_model

from mmseg_fcn_skip.checkpoints import CheckpointError
from mmseg_fcn_skip.checkpoints.converters.released import (
    RELEASED_NETS,
    dataset_classes,
    released_meta,
)
from mmseg_fcn_skip.checkpoints.released import (
    MEAN_ATOL,
    NetShape,
    check_released_net,
    model_shape,
)
from mmseg_fcn_skip.utils import packaged_config

#: fc6/fc7 width of the light models (the released nets have 4096).
FC = 8
IN_CHANNELS = {'32s': [FC], '16s': [512, FC], '8s': [256, 512, FC], '8s-atonce': [256, 512, FC]}
CAFFE_MEAN = '[104.007, 116.669, 122.679]'


def built_as(name: str):
    """The model of the config of the released net ``name``, fc6/fc7 narrowed."""
    net = RELEASED_NETS[name]
    options = {
        'model.backbone.fc_channels': FC,
        'model.backbone.init_cfg': None,
        'model.decode_head.in_channels': IN_CHANNELS[net.variant],
    }
    return init_model(packaged_config(net.config), None, device='cpu', cfg_options=options)


def converted_meta(name: str) -> dict:
    """The meta of the released net ``name`` converted for its own dataset."""
    net = RELEASED_NETS[name]
    return released_meta(net, net.dataset, dataset_classes(net.dataset))


@pytest.mark.parametrize(
    'name, described',
    [
        ('fcn32s-heavy-pascal', f'FCN-32s, 21 classes, input BGR minus mean {CAFFE_MEAN}'),
        ('fcn16s-heavy-pascal', f'FCN-16s, 21 classes, input BGR minus mean {CAFFE_MEAN}'),
        ('fcn8s-heavy-pascal', f'FCN-8s, 21 classes, input BGR minus mean {CAFFE_MEAN}'),
        ('fcn8s-atonce-pascal', f'FCN-8s-atonce, 21 classes, input BGR minus mean {CAFFE_MEAN}'),
        ('pascalcontext-fcn8s-heavy', f'FCN-8s, 59 classes, input BGR minus mean {CAFFE_MEAN}'),
        (
            'nyud-fcn32s-hha-heavy',
            'FCN-32s, 40 classes, input channels as stored minus mean [132.431, 94.076, 118.477]',
        ),
    ],
)
def test_the_config_of_a_released_net_builds_that_net_and_takes_its_checkpoint(name, described):
    model = built_as(name)
    assert model_shape(model).describe() == described
    check_released_net(model, converted_meta(name), f'{name}_mmseg.pth')  # no error


def test_the_at_once_net_is_refused_by_the_staged_configs_naming_both():
    model = built_as('fcn8s-heavy-pascal')
    with pytest.raises(CheckpointError) as error:
        check_released_net(model, converted_meta('fcn8s-atonce-pascal'), 'atonce.pth')
    assert str(error.value) == (
        'checkpoint atonce.pth holds the released net fcn8s-atonce-pascal (PASCAL VOC; '
        f'FCN-8s-atonce, 21 classes, input BGR minus mean {CAFFE_MEAN}), but the config '
        'builds the released net fcn8s-heavy-pascal (FCN-8s, 21 classes, input BGR minus '
        f'mean {CAFFE_MEAN}). Test it with configs/{RELEASED_NETS["fcn8s-atonce-pascal"].config}, '
        'or give this config the checkpoint of its own net.'
    )


def test_without_a_config_in_the_meta_the_fix_names_the_nets_own():
    model = built_as('fcn8s-heavy-pascal')
    meta = converted_meta('fcn8s-atonce-pascal')
    del meta['config']
    with pytest.raises(CheckpointError) as error:
        check_released_net(model, meta, 'atonce.pth')
    config = RELEASED_NETS['fcn8s-atonce-pascal'].config
    assert f'Test it with configs/{config}, or give' in str(error.value)


def test_a_model_that_does_not_normalise_is_no_released_net():
    """A preprocessor without mean or channel swap (mmengine's base one): the input
    is fed as loaded, BGR with no mean subtracted."""
    model = built_as('fcn32s-heavy-pascal')
    model.data_preprocessor = BaseDataPreprocessor()
    assert model_shape(model).describe() == 'FCN-32s, 21 classes, input BGR minus no mean'
    with pytest.raises(CheckpointError, match=r'builds no released net \(FCN-32s, 21 classes, '):
        check_released_net(model, converted_meta('fcn32s-heavy-pascal'), 'fcn32s.pth')


def test_means_agree_within_the_tolerance():
    shape = NetShape('32s', 21, (104.0, 116.0, 122.0), False)
    assert shape.matches(NetShape('32s', 21, (104.0, 116.0, 122.0 + MEAN_ATOL / 2), False))
    assert NetShape('32s', 21, (0.001, 0.0, 0.0), False).matches(
        NetShape('32s', 21, (0.0, 0.0, 0.0), False)
    )  # exactly MEAN_ATOL apart
    assert not shape.matches(NetShape('32s', 21, (104.0, 116.0, 122.5), False))
    assert not shape.matches(NetShape('32s', 21, None, False))
    assert NetShape('32s', 21, None, False).matches(NetShape('32s', 21, None, False))


def test_other_checkpoints_and_models_are_not_checked():
    model = built_as('fcn32s-heavy-pascal')
    check_released_net(model, {}, 'trained.pth')  # a checkpoint of no released net
    check_released_net(model, {'net': 'not-a-released-net'}, 'trained.pth')
    assert model_shape(model.backbone) is None  # no FCN skip segmentor
    model.decode_head = torch.nn.Identity()  # a head without skip levels
    assert model_shape(model) is None
    check_released_net(model, converted_meta('fcn32s-heavy-pascal'), 'fcn32s.pth')
