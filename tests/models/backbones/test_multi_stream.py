"""MultiStreamBackbone: channels split in order, one backbone per stream, one flat tuple."""

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_fcn_skip.models import MultiStreamBackbone

VGG = dict(type='FullyConvVGG', base_channels=4, fc_channels=8)
RESNET = dict(type='ResNet', depth=18, stem_channels=8, base_channels=8, out_indices=(0, 1))


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def build(**kwargs):
    return MODELS.build(dict(type='MultiStreamBackbone', **kwargs)).eval()


def test_each_stream_runs_on_its_channels_in_order_and_the_outputs_follow_each_other():
    backbone = build(
        streams=[dict(VGG, out_indices=(3, 5)), dict(VGG, out_indices=(5,))], in_channels=(3, 3)
    )
    image = torch.randn(1, 6, 40, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        outputs = backbone(image)
        colour = backbone.streams[0](image[:, :3])
        hha = backbone.streams[1](image[:, 3:])
    assert len(outputs) == 3
    for output, expected in zip(outputs, colour + hha):
        assert torch.equal(output, expected)
    # The streams have their own weights: the same channels give other outputs.
    assert not torch.equal(backbone.streams[1](image[:, :3])[0], outputs[1])
    assert backbone.stream_outputs == (2, 1)
    assert backbone.stream_indices(0) == (0, 1) and backbone.stream_indices(1) == (2,)
    assert backbone.out_channels == (32, 8, 8) and backbone.out_strides == (16, 32, 32)


def test_streams_of_other_backbones_and_channel_counts():
    # mmseg's ResNet on a one-channel modality (e.g. depth).
    resnet_cfg = dict(RESNET, in_channels=1)
    backbone = build(streams=[dict(VGG, out_indices=(5,)), resnet_cfg], in_channels=(3, 1))
    resnet = backbone.streams[1]
    assert type(resnet).__name__ == 'ResNet'
    image = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        outputs = backbone(image)
        expected = resnet(image[:, 3:])
    assert [tuple(o.shape) for o in outputs] == [(2, 8, 1, 1), (2, 8, 8, 8), (2, 16, 4, 4)]
    assert torch.equal(outputs[1], expected[0]) and backbone.stream_outputs == (1, 2)


def test_a_stream_without_out_indices_is_counted_at_the_first_forward():
    backbone = build(streams=[dict(VGG, out_indices=(5,)), dict(VGG, out_indices=(4, 5))])
    backbone.stream_outputs = (1, None)  # as a backbone without out_indices
    with pytest.raises(ValueError, match='not all known'):
        backbone.stream_indices(1)
    assert backbone.stream_indices(0) == (0,)
    with torch.no_grad():
        backbone(torch.zeros(1, 6, 32, 32))
    assert backbone.stream_indices(1) == (1, 2)


class OneLevel(nn.Module):
    """A backbone that names its single output by an int ``out_indices``."""

    def __init__(self, out_indices: int = 3) -> None:
        super().__init__()
        self.out_indices = out_indices
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)

    def forward(self, x):
        return (self.conv(x),)


def test_a_stream_with_an_int_out_indices_has_one_output():
    backbone = build(streams=[dict(type=OneLevel), dict(VGG, out_indices=(4, 5))])
    assert backbone.stream_outputs == (1, 2)
    assert backbone.stream_indices(0) == (0,) and backbone.stream_indices(1) == (1, 2)
    with torch.no_grad():
        outputs = backbone(torch.zeros(1, 6, 32, 32))
    assert [o.shape[1] for o in outputs] == [4, 32, 8]  # the conv, then pool4 and fc7
    assert backbone.stream_outputs == (1, 2)


@pytest.mark.parametrize('channels', [3, 4, 7])
def test_an_input_of_another_channel_count_names_both_counts_and_the_pipeline_step(channels):
    backbone = build(streams=[dict(VGG, out_indices=(5,))] * 2)
    with pytest.raises(ValueError) as info:
        backbone(torch.zeros(1, channels, 32, 32))
    message = str(info.value)
    assert f'the input has {channels} channels but MultiStreamBackbone takes 6' in message
    assert 'in_channels=(3, 3)' in message and 'LoadMultiModalImage' in message


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(streams=[]), 'non-empty list of backbone configs'),
        (dict(streams=VGG), 'non-empty list of backbone configs'),
        (dict(streams=[VGG, VGG], in_channels=(3,)), 'one positive channel count per stream'),
        (dict(streams=[VGG, VGG], in_channels=(3, 0)), 'one positive channel count per stream'),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiStreamBackbone(**kwargs)


def test_the_state_dict_holds_each_stream_under_its_index():
    backbone = build(streams=[dict(VGG, out_indices=(5,))] * 2)
    single = MODELS.build(dict(VGG, out_indices=(5,)))
    keys = set(backbone.state_dict())
    assert keys == {f'streams.{i}.{key}' for i in (0, 1) for key in single.state_dict()}


def test_a_stream_starts_from_a_single_stream_checkpoint_by_its_init_cfg(tmp_path):
    single = MODELS.build(dict(VGG, out_indices=(5,)))
    torch.save(
        {'state_dict': {f'backbone.{k}': v for k, v in single.state_dict().items()}},
        tmp_path / 'single.pth',
    )
    init = dict(type='Pretrained', checkpoint=str(tmp_path / 'single.pth'), prefix='backbone.')
    backbone = build(
        streams=[dict(VGG, out_indices=(5,)), dict(VGG, out_indices=(5,), init_cfg=init)]
    )
    backbone.init_weights()
    for key, value in single.state_dict().items():
        assert torch.equal(backbone.state_dict()[f'streams.1.{key}'], value)
    assert not torch.equal(backbone.streams[0].fc7.conv.weight, single.fc7.conv.weight)
