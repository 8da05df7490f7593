import pytest
import torch

from mmseg_fcn_skip.models import FCNSkipHead, variant_name
from mmseg_fcn_skip.models.fusion_plan import (
    FusionPlan,
    default_strides,
    fusion_strides,
    input_size_candidates,
    level_key,
    level_mismatch,
)
from tests.helpers.alexnet_levels import ALEXNET

FCN8S = (8, 16, 32)


@pytest.mark.parametrize(
    'sizes,input_size',
    [
        (((8, 6), (4, 3), (2, 2)), (61, 45)),  # ceil(size / stride)
        (((7, 5), (3, 2), (1, 1)), (61, 45)),  # floor(size / stride)
        (((1, 1), (1, 1), (1, 1)), (1, 1)),
        (((64, 64), (32, 32), (16, 16)), (512, 512)),
    ],
)
def test_same_mode_accepts_ceil_or_floor_of_size_over_stride(sizes, input_size):
    assert level_mismatch('same', FCN8S, sizes, ()) is None
    assert level_mismatch('same', FCN8S, sizes, (input_size,)) is None


def test_caffe_mode_accepts_the_reference_sizes_only():
    """500x500: pool3 ceil(698 / 8) = 88, pool4 44, fc7 ceil(698 / 32) - 6 = 16."""
    reference = ((88, 88), (44, 44), (16, 16))
    assert level_mismatch('caffe', FCN8S, reference, ((500, 500),)) is None
    assert level_mismatch('caffe', FCN8S, reference, ()) is None
    assert level_mismatch('caffe', FCN8S, ((88, 88), (44, 44), (17, 16)), ()) is not None
    assert level_mismatch('caffe', FCN8S, reference, ((512, 500),)) is not None


def test_one_fitting_input_candidate_is_enough():
    sizes = ((8, 8), (4, 4), (2, 2))
    assert level_mismatch('same', FCN8S, sizes, ((40, 40), (64, 64))) is None
    message = level_mismatch('same', FCN8S, sizes, ((16, 16), (40, 40)))
    assert 'network input of 16x16, where it expects 2x2, 1x1, 1x1' in message


def test_input_candidates_follow_predict_by_feat_then_the_rest():
    assert input_size_candidates(dict(img_shape=(50, 40), pad_shape=(64, 48))) == (
        (64, 48),
        (50, 40),
    )
    slide = dict(img_shape=torch.Size((33, 29)), pad_shape=(64, 48))
    assert input_size_candidates(slide) == ((33, 29), (64, 48))
    assert input_size_candidates(dict(img_shape=(50, 40, 3))) == ((50, 40),)
    batch = dict(img_shape=(50, 40), pad_shape=(50, 40), batch_input_shape=(64, 64))
    assert input_size_candidates(batch) == ((64, 64), (50, 40))


def test_default_strides_halve_from_32():
    assert default_strides(1) == (32,)
    assert default_strides(3) == (8, 16, 32)
    assert fusion_strides(None, 4) == (4, 8, 16, 32)
    assert fusion_strides([4, 16, 32], 3) == (4, 16, 32)
    with pytest.raises(ValueError, match='whole multiple'):
        fusion_strides((8, 12, 24), 3)


def test_names_of_levels_and_variants():
    assert level_key(16) == 'stride16'
    assert variant_name((8, 16, 32)) == 'FCN-8s'
    assert variant_name((4, 16, 32)) == 'FCN-4s'
    assert variant_name((32,)) == 'FCN-32s'


@pytest.mark.parametrize(
    'num_levels,fuse_crops,final_crop', [(1, [], 19), (2, [(0, 5)], 27), (3, [(0, 5), (0, 9)], 31)]
)
def test_caffe_plans_have_the_reference_crops(num_levels, fuse_crops, final_crop):
    plan = FusionPlan(num_levels, pad_mode='caffe')
    assert plan.fuse_crops == fuse_crops and plan.final.up_crop == final_crop
    assert [step.key for step in plan.fusions] == [level_key(s) for s in plan.in_strides[:0:-1]]
    assert not any(step.align_corners for step in plan.fusions + (plan.final,))


def test_corner_grids_upsample_with_aligned_corners():
    plan = FusionPlan(3, in_grids='corner', upsample='bilinear')
    assert [step.align_corners for step in plan.fusions] == [True, True]
    assert plan.final.align_corners and plan.final.factor == 8


def test_the_caffe_strides_are_those_the_backbone_describes():
    with pytest.raises(
        ValueError, match=r'VGG pool levels of strides \(2, 4, 8, 16\) followed by fc7'
    ):
        FusionPlan(2, (32, 64), pad_mode='caffe')
    with pytest.raises(ValueError, match=r"FullyConvVGG's grids; leave in_grids out"):
        FusionPlan(2, pad_mode='caffe', in_grids='centre')
    with pytest.raises(
        ValueError, match=r'AlexNet pool levels of strides \(8, 16\) followed by fc7'
    ):
        FusionPlan(3, (4, 16, 32), pad_mode='caffe', backbone_type=ALEXNET)


def test_a_second_described_backbone_plugs_into_the_head():
    head = FCNSkipHead(
        in_channels=(4, 4, 8),
        in_index=(0, 1, 2),
        in_strides=(8, 16, 32),
        pad_mode='caffe',
        backbone_type=ALEXNET,
        num_classes=3,
    )
    # pool1 at -91 (stride 8), pool2 at -83 (16), fc7 at 13 (32): a 2x deconv of
    # kernel 4 puts fc7 at 13 - 24 = -11, 4.5 pixels of pool2 away; kernel 3
    # (align_corners) at 13 - 16 = -3, 5 pixels of pool2 (crop 5); then pool1 at
    # -3 - 8 = -11 (crop 10) and the input at -11 - 7 = -18 (crop 18).
    assert head.plan.backbone is ALEXNET
    assert head.fuse_crops == [(0, 5), (0, 10)] and head.final_crop == 18
    assert all(up.align_corners for up in head.fuse_upsamples.values())
    sizes = [ALEXNET.sizes('caffe', 227)[k] for k in (0, 1, 3)]
    levels = [torch.zeros(1, c, n, n) for c, n in zip((4, 4, 8), sizes)]
    assert head.plan.mismatch(tuple((n, n) for n in sizes), ((227, 227),)) is None
    out = head(levels)
    assert out.shape[-1] >= 227
    message = head.plan.mismatch(tuple((n + 1, n) for n in sizes), ((227, 227),))
    assert "those of TestAlexNet(pad_mode='caffe')" in message


@pytest.mark.parametrize(
    'in_strides,sizes,input_size,strides',
    [
        # pool2, pool4, fc7 of FullyConvVGG(pad_mode='same') on a wide 40x320 input: read
        # along the longer side (fc7's 2 rows of 40 would say stride 16, its 10 columns
        # of 320 say 32)
        (FCN8S, ((10, 80), (3, 20), (2, 10)), (40, 320), (4, 16, 32)),
        # pool2 and fc7 on 32x32: fc7 is a single pixel, stride 32
        ((16, 32), ((8, 8), (1, 1)), (32, 32), (4, 32)),
    ],
    ids=['wide-input', 'single-pixel-fc7'],
)
def test_levels_of_other_strides_get_the_strides_they_fit(in_strides, sizes, input_size, strides):
    message = level_mismatch('same', in_strides, sizes, (input_size,))
    assert f'The sizes fit strides of about {strides}. Set in_strides to the strides' in message


def test_a_pad_mode_mismatch_names_the_first_layer_and_its_pad():
    """500x500: the caffe levels under a 'same' head and the same levels under a 'caffe'
    head, each named with conv1_1's 100-pixel pad."""
    caffe, same = ((88, 88), (44, 44), (16, 16)), ((63, 63), (32, 32), (16, 16))
    assert level_mismatch('same', FCN8S, caffe, ((500, 500),)).endswith(
        "These are the levels of FullyConvVGG(pad_mode='caffe') (conv1_1 padded by 100), not "
        'of a same-padded backbone. Use one pad mode for backbone and head: the same pad_mode '
        "in model.backbone and model.decode_head (the plugin's configs set both from one "
        'line, `pad_mode = ...`).'
    )
    assert (
        "These are the levels of a same-padded backbone (FullyConvVGG(pad_mode='same') or one "
        "without the 100-pixel pad), not of FullyConvVGG(pad_mode='caffe')."
    ) in level_mismatch('caffe', FCN8S, same, ((500, 500),))


def test_caffe_strides_that_the_backbone_lacks_are_refused_with_its_strides():
    with pytest.raises(ValueError) as error:
        FusionPlan(2, (32, 64), pad_mode='caffe')
    assert str(error.value) == (
        "in_strides=(32, 64) with pad_mode='caffe' must be VGG pool levels of strides "
        '(2, 4, 8, 16) followed by fc7 (stride 32)'
    )
