import math

import pytest
import torch
import torch.nn.functional as F

from mmseg_fcn_skip.models import FullyConvVGG
from mmseg_fcn_skip.models.backbones import fully_conv
from mmseg_fcn_skip.models.backbones.fully_conv_vgg import LEVELS

LIGHT = dict(base_channels=4, fc_channels=8)


@pytest.mark.parametrize('size', [(1, 1), (5, 7), (32, 32), (33, 65), (97, 130)])
def test_same_mode_level_sizes_are_ceil_of_size_over_stride(size):
    vgg = FullyConvVGG(out_indices=range(6), **LIGHT)
    outputs = vgg(torch.randn(1, 3, *size))
    for out, stride in zip(outputs, (2, 4, 8, 16, 32, 32)):
        assert out.shape[-2:] == tuple(math.ceil(s / stride) for s in size)


def test_caffe_mode_matches_the_reference_sizes_for_500x500():
    vgg = FullyConvVGG(pad_mode='caffe', out_indices=range(6), **LIGHT)
    sizes = [out.shape[-1] for out in vgg(torch.randn(1, 3, 500, 500))]
    # 500 + 2 * 100 - 2 = 698 after conv1_1, halved rounding up; fc6 is unpadded 7x7.
    assert sizes == [349, 175, 88, 44, 22, 16]


def _randomize(vgg: FullyConvVGG) -> None:
    """He-initialised weights and non-zero biases: activations of order 1."""
    for parameter in vgg.parameters():
        if parameter.dim() > 1:
            torch.nn.init.kaiming_normal_(parameter)
        else:
            torch.nn.init.normal_(parameter, std=0.1)


def _reference_levels(vgg: FullyConvVGG, image: torch.Tensor, pad_mode: str, dropout: float = 0.0):
    """The six levels computed op by op from the module's weights: conv1_1 padded by
    1 ('same') or 100 ('caffe'), other 3x3 convs by 1, each ReLU'd; 2x2/2 max pooling
    rounding up after each block; fc6 (7x7, padded by 3 or 0) and fc7 (1x1), each
    followed by ReLU and then dropout."""
    x, levels = image, []
    for block_index, block in enumerate(vgg.blocks):
        for conv_index, layer in enumerate(block):
            padding = (1 if pad_mode == 'same' else 100) if block_index == conv_index == 0 else 1
            x = F.relu(F.conv2d(x, layer.conv.weight, layer.conv.bias, padding=padding))
        x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        levels.append(x)
    fc6, fc7 = vgg.fc6.conv, vgg.fc7.conv
    x = F.relu(F.conv2d(x, fc6.weight, fc6.bias, padding=3 if pad_mode == 'same' else 0))
    x = F.dropout(x, dropout, training=dropout > 0)
    x = F.relu(F.conv2d(x, fc7.weight, fc7.bias))
    levels.append(F.dropout(x, dropout, training=dropout > 0))
    return levels


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
@pytest.mark.parametrize('depth', [11, 16])
def test_levels_equal_an_op_by_op_computation(pad_mode, depth):
    vgg = FullyConvVGG(depth=depth, pad_mode=pad_mode, out_indices=range(6), **LIGHT).eval()
    _randomize(vgg)
    image = torch.randn(1, 3, 37, 30)
    with torch.no_grad():
        levels = vgg(image)
        expected = _reference_levels(vgg, image, pad_mode)
    for level, reference in zip(levels, expected):
        torch.testing.assert_close(level, reference)


def test_dropout_follows_fc6_and_fc7_in_training_only():
    """With the generator seeded alike, training mode draws the dropout masks of
    fc6 and fc7 (in that order, of their outputs' shapes) exactly as
    F.dropout after each ReLU does; evaluation mode drops nothing."""
    vgg = FullyConvVGG(out_indices=(4, 5), dropout_ratio=0.6, **LIGHT)
    _randomize(vgg)
    image = torch.randn(2, 3, 40, 36)
    with torch.no_grad():
        torch.manual_seed(3)
        pool5, fc7 = vgg.train()(image)
        torch.manual_seed(3)
        expected = _reference_levels(vgg, image, 'same', dropout=0.6)
        torch.testing.assert_close(pool5, expected[4])  # no dropout before fc6
        torch.testing.assert_close(fc7, expected[5])
        assert (fc7 == 0).float().mean() > 0.5
        torch.testing.assert_close(vgg.eval()(image)[1], _reference_levels(vgg, image, 'same')[5])


@pytest.mark.parametrize('depth,convs', [(11, 8), (13, 10), (16, 13), (19, 16)])
def test_depth_sets_the_number_of_3x3_convs(depth, convs):
    vgg = FullyConvVGG(depth=depth, **LIGHT)
    assert sum(len(block) for block in vgg.blocks) == convs


def test_full_vgg16_has_the_reference_parameter_count():
    vgg = FullyConvVGG()
    # 14.7M in the 13 convs, 102.8M in fc6, 16.8M in fc7.
    assert sum(p.numel() for p in vgg.parameters()) == 134_260_544


def test_output_metadata_follows_out_indices():
    vgg = FullyConvVGG(out_indices=(1, 3, 5), base_channels=8, fc_channels=32)
    assert vgg.out_channels == (16, 64, 32) and vgg.out_strides == (4, 16, 32)


def test_grids_of_the_caffe_net():
    grids = LEVELS.grids('caffe')
    assert [float(g.offset) for g in grids] == [-98.5, -97.5, -95.5, -91.5, -83.5, 12.5]
    assert [float(g.offset) for g in LEVELS.grids('same')] == [0.5, 1.5, 3.5, 7.5, 15.5, 15.5]


def test_frozen_stages_freeze_blocks_and_optionally_fc():
    vgg = FullyConvVGG(frozen_stages=1, **LIGHT)
    vgg.train()
    assert not any(p.requires_grad for b in vgg.blocks[:2] for p in b.parameters())
    assert all(p.requires_grad for b in vgg.blocks[2:] for p in b.parameters())
    assert vgg.fc6.conv.weight.requires_grad
    vgg = FullyConvVGG(frozen_stages=5, **LIGHT)
    assert not any(p.requires_grad for p in vgg.parameters())


def test_norm_eval_keeps_batch_norm_statistics():
    vgg = FullyConvVGG(norm_cfg=dict(type='BN'), norm_eval=True, **LIGHT)
    vgg.train()
    bn = vgg.blocks[0][0].bn
    before = bn.running_mean.clone()
    vgg(torch.randn(2, 3, 16, 16))
    assert not bn.training
    torch.testing.assert_close(bn.running_mean, before)
    assert vgg.fc6.training  # only norm layers are switched to eval


def test_frozen_batch_norm_stays_in_eval_mode():
    vgg = FullyConvVGG(norm_cfg=dict(type='BN'), frozen_stages=0, **LIGHT)
    vgg.train()
    assert not vgg.blocks[0][0].bn.training and vgg.blocks[1][0].bn.training


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(depth=18), 'depth=18'),
        (dict(pad_mode='valid'), "pad_mode='valid'"),
        (dict(out_indices=(2, 6)), 'out_indices'),
        (dict(out_indices=()), 'out_indices'),
        (dict(frozen_stages=6), 'frozen_stages=6'),
        (dict(fc_channels=0), 'fc_channels=0'),
        (dict(base_channels=2.5), 'base_channels=2.5'),
        (dict(dropout_ratio=1.0), 'dropout_ratio=1.0'),
        (dict(in_channels=0), 'in_channels=0'),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FullyConvVGG(**kwargs)


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_level_sizes_are_those_of_the_backbone(pad_mode):
    vgg = FullyConvVGG(pad_mode=pad_mode, base_channels=2, fc_channels=2, out_indices=range(6))
    for height, width in [(1, 1), (2, 31), (32, 33), (63, 96), (101, 7)]:
        with torch.no_grad():
            outputs = vgg(torch.zeros(1, 3, height, width))
        got = [tuple(out.shape[-2:]) for out in outputs]
        expected = zip(LEVELS.sizes(pad_mode, height), LEVELS.sizes(pad_mode, width))
        assert got == list(expected)


def test_level_sizes_by_hand():
    assert LEVELS.sizes('same', 500) == (250, 125, 63, 32, 16, 16)
    assert LEVELS.sizes('caffe', 500) == (349, 175, 88, 44, 22, 16)


def test_the_backbone_describes_its_levels():
    assert FullyConvVGG.levels is LEVELS
    assert LEVELS.names == ('pool1', 'pool2', 'pool3', 'pool4', 'pool5', 'fc7')
    assert LEVELS.strides == (2, 4, 8, 16, 32, 32)
    assert LEVELS.channels == (64, 128, 256, 512, 512, 4096)
    vgg = FullyConvVGG(out_indices=(2, 3, 5), **LIGHT)
    assert vgg.out_strides == tuple(LEVELS.strides[i] for i in (2, 3, 5))


# input channels: colour plus depth or HHA


@pytest.mark.parametrize('in_channels', [1, 4, 6])
def test_any_number_of_input_channels(in_channels):
    vgg = FullyConvVGG(in_channels=in_channels, out_indices=range(6), **LIGHT).eval()
    image = torch.randn(1, in_channels, 20, 24)
    levels = vgg(image)
    assert vgg.blocks[0][0].conv.weight.shape[1] == in_channels
    reference = _reference_levels(vgg, image, 'same')
    for level, expected in zip(levels, reference):
        torch.testing.assert_close(level, expected)


@pytest.mark.parametrize('got, built', [(3, 4), (6, 4), (4, 6)])
def test_another_channel_count_names_both_and_the_loading_step(got, built):
    vgg = FullyConvVGG(in_channels=built, **LIGHT)
    with pytest.raises(ValueError) as error:
        vgg(torch.zeros(1, got, 8, 8))
    message = str(error.value)
    assert f'built for {built} input channels but got {got}' in message
    assert 'LoadMultiModalImage' in message


def test_a_colour_checkpoint_widens_conv1_1_with_the_mean_filter(monkeypatch):
    colour = FullyConvVGG(**LIGHT)
    _randomize(colour)
    colour_depth = FullyConvVGG(in_channels=4, **LIGHT)
    logged = []
    monkeypatch.setattr(fully_conv, 'print_log', lambda message, **_: logged.append(message))
    colour_depth.load_state_dict(colour.state_dict())
    assert logged == [
        "FullyConvVGG: the checkpoint's first convolution blocks.0.0.conv.weight takes 3 "
        'channels, the model 4: the 1 extra input channel(s) start as the mean of its 3 '
        'colour filters'
    ]
    weight = colour.blocks[0][0].conv.weight
    widened = colour_depth.blocks[0][0].conv.weight
    assert widened.shape == (4, 4, 3, 3)
    torch.testing.assert_close(widened[:, :3], weight)
    torch.testing.assert_close(widened[:, 3], (weight[:, 0] + weight[:, 1] + weight[:, 2]) / 3)
    for key, value in colour.state_dict().items():  # everything else as it is
        if key != 'blocks.0.0.conv.weight':
            torch.testing.assert_close(colour_depth.state_dict()[key], value)


def test_a_constant_extra_channel_adds_what_the_mean_colour_adds():
    """The reference's reasoning: a depth channel equal to the mean of the colour
    channels gives conv1_1 exactly the colour net's response to that mean grey."""
    colour = FullyConvVGG(out_indices=(0,), **LIGHT).eval()
    _randomize(colour)
    wide = FullyConvVGG(in_channels=6, out_indices=(0,), **LIGHT).eval()
    wide.load_state_dict(colour.state_dict())
    image = torch.randn(1, 3, 10, 12)
    grey = image.mean(dim=1, keepdim=True)
    with torch.no_grad():
        got = wide(torch.cat([image, grey.expand(-1, 3, -1, -1)], dim=1))[0]
        conv = colour.blocks[0][0].conv
        bias = conv.bias.view(1, -1, 1, 1)
        first = F.conv2d(image, conv.weight, padding=1) + F.conv2d(
            grey.expand(-1, 3, -1, -1), conv.weight, padding=1
        )
        expected = F.max_pool2d(
            F.relu(
                F.conv2d(
                    F.relu(first + bias),
                    colour.blocks[0][1].conv.weight,
                    colour.blocks[0][1].conv.bias,
                    padding=1,
                )
            ),
            2,
            2,
            ceil_mode=True,
        )
    torch.testing.assert_close(got, expected)


def test_pretrained_init_cfg_widens_a_colour_checkpoint(tmp_path):
    colour = FullyConvVGG(**LIGHT)
    _randomize(colour)
    path = tmp_path / 'vgg.pth'
    torch.save(colour.state_dict(), path)
    wide = FullyConvVGG(
        in_channels=4, init_cfg=dict(type='Pretrained', checkpoint=str(path)), **LIGHT
    )
    wide.init_weights()
    torch.testing.assert_close(
        wide.blocks[0][0].conv.weight[:, :3], colour.blocks[0][0].conv.weight
    )
    torch.testing.assert_close(
        wide.blocks[0][0].conv.weight[:, 3], colour.blocks[0][0].conv.weight.mean(dim=1)
    )
    torch.testing.assert_close(wide.fc7.conv.weight, colour.fc7.conv.weight)


def test_a_checkpoint_of_another_channel_count_is_refused_naming_both():
    five = FullyConvVGG(in_channels=5, **LIGHT).state_dict()
    with pytest.raises(ValueError, match='takes 5 input channels but the model takes 4'):
        FullyConvVGG(in_channels=4, **LIGHT).load_state_dict(five)
    with pytest.raises(ValueError, match='takes 3 input channels but the model takes 1'):
        FullyConvVGG(in_channels=1, **LIGHT).load_state_dict(FullyConvVGG(**LIGHT).state_dict())
