"""The grid probe: it finds each level's grid, and the head on the grid it finds
scores the pixels it is meant to (mean shift within 1 px), on mmseg's backbones."""

from fractions import Fraction
from pathlib import Path

import pytest
from analysis_lib.grids import (
    LevelGrid,
    _level_grid,
    _symmetric_positions,
    config_value,
    probe_level_grids,
    probe_mean_shift,
)
from mmengine.config import Config

from tests.helpers.composed_models import shrink_model

REPO = Path(__file__).resolve().parents[3]
SEEDS = (0, 1, 2)
#: Light versions of mmseg's backbones (the grid does not depend on the width).
RESNET_V1C_50 = dict(
    type='ResNetV1c',
    depth=50,
    base_channels=8,
    stem_channels=8,
    strides=(1, 2, 2, 2),
    dilations=(1, 1, 1, 1),
    out_indices=(1, 2, 3),
)
RESNET_V1C_18 = dict(RESNET_V1C_50, depth=18, out_indices=(3,))
MOBILENET_V2 = dict(
    type='MobileNetV2',
    widen_factor=0.5,
    strides=(1, 2, 2, 2, 1, 2, 1),
    dilations=(1,) * 7,
    out_indices=(2, 4, 6),
)
MIT_B0 = dict(
    type='MixVisionTransformer',
    embed_dims=16,
    num_layers=[1, 1, 1, 1],
    num_heads=[1, 2, 5, 8],
    sr_ratios=[8, 4, 2, 1],
    out_indices=(0, 1, 2, 3),
)
SWIN_T = dict(
    type='SwinTransformer',
    embed_dims=12,
    depths=[2, 2, 2, 2],
    num_heads=[1, 2, 4, 8],
    window_size=7,
    out_indices=(0, 1, 2, 3),
)
VGG = dict(
    type='FullyConvVGG', base_channels=4, fc_channels=64, dropout_ratio=0.0, out_indices=(2, 3, 5)
)


def skip_head(in_channels, in_grids=None, **kwargs):
    return dict(
        type='FCNSkipHead',
        in_channels=in_channels,
        in_index=tuple(range(len(in_channels))),
        in_grids=in_grids,
        num_classes=3,
        **kwargs,
    )


#: name: (backbone, head channels, the right grid, the wrong one, power)
PAIRS = {
    'resnetv1c50-fcn8s': (RESNET_V1C_50, (64, 128, 256), 'corner', 'centre', 1),
    'resnetv1c18-fcn32s': (RESNET_V1C_18, (64,), 'corner', 'centre', 1),
    'mobilenetv2-fcn8s': (MOBILENET_V2, (16, 48, 160), 'corner', 'centre', 1),
    'mit-b0-fcn4s': (MIT_B0, (16, 32, 80, 128), 'corner', 'centre', 2),
    'swin-t-fcn4s': (SWIN_T, (12, 24, 48, 96), 'centre', 'corner', 2),
}


@pytest.mark.parametrize('name', PAIRS)
def test_the_head_on_the_right_grid_is_aligned_and_on_the_wrong_one_is_not(name):
    backbone, channels, right, wrong, power = PAIRS[name]
    shift, error = probe_mean_shift(backbone, skip_head(channels, right), 160, SEEDS, 8, power)
    assert abs(shift) < 1 and error < 0.4
    wrong_shift, _ = probe_mean_shift(
        backbone, skip_head(channels, wrong), 160, SEEDS[:1], 8, power
    )
    assert abs(wrong_shift) > 2.5


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_fully_conv_vgg_and_the_head_are_aligned(pad_mode):
    """The VGG's 7x7 fc6 makes single initialisations lopsided: more of them."""
    shift, error = probe_mean_shift(
        dict(VGG, pad_mode=pad_mode),
        skip_head((16, 32, 64), pad_mode=pad_mode),
        160,
        tuple(range(8)),
        8,
    )
    assert abs(shift) < 1 and error < 0.4


@pytest.mark.parametrize(
    'backbone, expected',
    [
        (dict(RESNET_V1C_18, out_indices=(0, 1, 2, 3)), 'corner'),
        (dict(type='ResNet', depth=18, base_channels=8, out_indices=(0, 1, 2, 3)), 'corner'),
        (dict(MOBILENET_V2, out_indices=(1, 2, 4, 6)), 'corner'),
        (dict(VGG, out_indices=(0, 1, 2, 3, 4)), 'centre'),
        (SWIN_T, 'centre'),
        (MIT_B0, 'corner'),
    ],
)
def test_the_probe_names_the_grid_of_each_level(backbone, expected):
    grids = probe_level_grids(backbone, 160, SEEDS[:2], 8)
    assert [g.name for g in grids] == [expected] * len(grids)
    assert config_value(grids) == expected


def test_levels_of_no_named_grid_give_their_offsets():
    grids = [LevelGrid(8, 0.1, 0.5, 'corner'), LevelGrid(16, 2.4, 0.5, None)]
    assert config_value(grids) == (Fraction(0), Fraction(5, 2))


COMPOSED = [
    'fcn_skip/fcn8s_r50-v1c_4xb4-40k_voc12aug-512x512.py',
    'fcn_skip/fcn4s_r50-v1c_4xb4-40k_voc12aug-512x512.py',
    'fcn_skip/fcn4s_mit-b0_4xb4-40k_voc12aug-512x512.py',
    'fcn_skip/fcn4s_swin-t_4xb4-40k_voc12aug-512x512.py',
]


@pytest.mark.parametrize('name', COMPOSED)
def test_every_composition_config_is_aligned(name):
    """The configs' own grids, on their backbones made light."""
    model = Config.fromfile(str(REPO / 'configs' / name)).model
    shrink_model(model)
    power = 2 if model.backbone.type in ('MixVisionTransformer', 'SwinTransformer') else 1
    shift, _ = probe_mean_shift(
        model.backbone.to_dict(), model.decode_head.to_dict(), 160, SEEDS, 8, power
    )
    assert abs(shift) < 1


def test_an_odd_batch_is_refused():
    with pytest.raises(ValueError, match='batch=3 must be an even number'):
        probe_level_grids(RESNET_V1C_18, batch=3)


def test_probed_pixels_are_pairs_about_the_middle_spread_over_the_middle_half():
    """Of 0..64 the middle half is 16..48: pairs (16, 48) and (24, 40), the second
    half way from the quarter to the middle; of 0..63, 15.75..47.25 in four steps."""
    assert _symmetric_positions(65, 4) == [16, 48, 24, 40]
    assert _symmetric_positions(64, 8) == [15, 48, 19, 44, 23, 40, 27, 36]
    # an odd count: two pairs, then the middle itself (steps of a half of 8..16)
    assert _symmetric_positions(33, 5) == [8, 24, 12, 20, 16]


def test_exact_centres_about_a_half_pixel_middle_give_the_exact_offset():
    # pixels 15 and 48 of a stride-8 level centred on 8p + 3.5, nothing pulled: the
    # middle of the probed positions is 31.5 (not a whole pixel)
    grid = _level_grid(8, [(15, 8 * 15 + 3.5), (48, 8 * 48 + 3.5)], 31.5)
    assert grid == LevelGrid(8, 3.5, 0.0, 'centre')
