"""FCNSkipHead's in_grids: where each level lies on the input sets the upsampling and
the crops, so that a level pixel's score lands on the input pixel it lies on."""

import pytest
import torch
import torch.nn as nn

from mmseg_fcn_skip.models import FCNSkipHead
from mmseg_fcn_skip.models.utils import Upsample

STRIDES = (8, 16, 32)


def unit_head(in_grids, upsample='deconv', strides=STRIDES) -> FCNSkipHead:
    """One channel per level, one class, every score conv the identity."""
    head = FCNSkipHead(
        in_channels=(1,) * len(strides),
        in_index=tuple(range(len(strides))),
        in_strides=strides,
        in_grids=in_grids,
        upsample=upsample,
        num_classes=1,
    )
    for module in head.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return head.eval()


def impulse_logits(head: FCNSkipHead, level: int, pixel: int, size: int = 96):
    """Logits (one row, the column through the impulse) for a single 1 at level
    pixel (pixel, pixel), every other level zero."""
    levels = [torch.zeros(1, 1, -(-size // s), -(-size // s)) for s in head.in_strides]
    levels[level][0, 0, pixel, pixel] = 1.0
    with torch.no_grad():
        return head(levels)[0, 0]


@pytest.mark.parametrize('upsample', ['deconv', 'bilinear'])
@pytest.mark.parametrize('level', [0, 1, 2])
def test_corner_grid_puts_level_pixel_j_on_input_pixel_stride_times_j(level, upsample):
    head = unit_head('corner', upsample)
    logits = impulse_logits(head, level, 1)
    stride = STRIDES[level]
    peak = divmod(int(logits.argmax()), logits.shape[-1])
    assert peak == (stride, stride)
    # symmetric about it: the score spreads equally up and down
    column = logits[:, stride]
    torch.testing.assert_close(column[stride - 3 : stride], column[stride + 1 : stride + 4].flip(0))


@pytest.mark.parametrize('upsample', ['deconv', 'bilinear'])
@pytest.mark.parametrize('level', [0, 1, 2])
def test_centre_grid_puts_level_pixel_j_on_the_centre_of_its_window(level, upsample):
    head = unit_head('centre', upsample)
    logits = impulse_logits(head, level, 1)
    stride = STRIDES[level]
    centre = stride + (stride - 1) / 2  # between two input pixels
    column = logits[:, int(centre + 0.5)]
    low, high = int(centre), int(centre) + 1
    assert column[low] == column[high] == column.max()
    torch.testing.assert_close(column[low - 2 : low + 1], column[high : high + 3].flip(0))


def test_explicit_offsets_equal_the_named_grids():
    levels = [torch.randn(1, 1, 96 // s, 96 // s) for s in STRIDES]
    with torch.no_grad():
        for name, offsets in [('corner', (0, 0, 0)), ('centre', ('7/2', 7.5, 15.5))]:
            torch.testing.assert_close(unit_head(offsets)(levels), unit_head(name)(levels))
    assert unit_head(None).fuse_crops == unit_head('centre').fuse_crops


def test_a_common_shift_of_every_level_shifts_the_logits():
    """Levels one input pixel further down and right than corner: logits one later."""
    levels = [torch.randn(1, 1, 12 // (s // 8), 12 // (s // 8)) for s in STRIDES]
    with torch.no_grad():
        corner = unit_head('corner')(levels)
        shifted = unit_head((1, 1, 1))(levels)
    torch.testing.assert_close(shifted[..., 1:40, 1:40], corner[..., :39, :39])


def upsamplings(head: FCNSkipHead) -> list:
    """The head's upsamplings, deepest first, the final one last."""
    return [m for m in head.modules() if isinstance(m, Upsample)]


def test_corner_upsampling_is_chosen_per_step():
    ups = upsamplings(unit_head('corner'))
    assert [u.align_corners for u in ups] == [True, True, True]
    assert [u.weight.shape[-1] for u in ups] == [3, 3, 15]
    assert not any(u.align_corners for u in upsamplings(unit_head(None)))


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(in_grids='corner', pad_mode='caffe'), "with pad_mode='caffe'"),
        (dict(in_grids='diagonal'), "'diagonal' is not a grid name"),
        (dict(in_grids=(0, 0)), r'one entry per input level \(3\)'),
        (dict(in_grids=(0, 1, 0)), 'tools/analysis_tools/probe_grids.py'),
        (dict(in_grids=(3, 3, 3), upsample='bilinear'), r'start 3 px inside the image'),
        (dict(in_grids=(8, 8, 8)), r'start 1 px inside the image'),
    ],
)
def test_grids_that_cannot_be_aligned_name_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FCNSkipHead(in_channels=(1, 1, 1), in_index=(0, 1, 2), num_classes=1, **kwargs)


def test_mixed_grids_choose_each_upsampling_from_its_two_levels():
    """ResNetV1d's shortcut grids (docs/backbones.md): offsets 0, 2, 6, 14 at strides
    4..32 are centre-like between levels and corner at stride 4."""
    head = FCNSkipHead(
        in_channels=(1, 1, 1, 1), in_index=(0, 1, 2, 3), in_grids=(0, 2, 6, 14), num_classes=1
    )
    assert [u.align_corners for u in upsamplings(head)] == [False, False, False, True]
    assert head.fuse_crops == [(1, 0), (1, 0), (1, 0)] and head.final_crop == 3


def test_a_skip_level_that_starts_before_the_upsampled_score_loses_its_first_pixels():
    """Stride 8 from -4 (its first pixel centred above the image), stride 16 from 12:
    the upsampled stride-16 score starts one stride-8 pixel later, so the skip's first
    row and column are cropped; each level pixel still lands on the input pixel it
    lies on (-4 + 8 * 2 = 12, 12 + 16 * 1 = 28), over the whole 100x100 input."""
    head = unit_head((-4, 12), strides=(8, 16))
    assert head.fuse_crops == [(0, 1)] and head.final_crop == 3
    for level, pixel, input_pixel in [(0, 2, 12), (1, 1, 28)]:
        logits = impulse_logits(head, level, pixel, size=100)
        assert logits.shape == (100, 100)
        assert divmod(int(logits.argmax()), 100) == (input_pixel, input_pixel)
        assert logits.max() == 1.0
