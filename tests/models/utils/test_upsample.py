from fractions import Fraction

import pytest
import torch

from mmseg_fcn_skip.models.geometry import Grid
from mmseg_fcn_skip.models.utils import Upsample, bilinear_kernel, upsample_alignment


def test_bilinear_kernel_of_factor_two():
    ramp = torch.tensor([0.25, 0.75, 0.75, 0.25])
    torch.testing.assert_close(bilinear_kernel(4), torch.outer(ramp, ramp))


def test_odd_bilinear_kernel_peaks_at_its_centre():
    kernel = bilinear_kernel(3)
    assert kernel[1, 1] == 1 and kernel[0, 0] == 0.25


@pytest.mark.parametrize('factor', [2, 8, 32])
def test_fixed_deconv_keeps_a_constant_map_constant_inside(factor):
    up = Upsample(channels=3, factor=factor)
    out = up(torch.full((1, 3, 4, 5), 2.0))
    assert out.shape == (1, 3, factor * 5, factor * 6)
    inner = out[..., factor:-factor, factor:-factor]
    torch.testing.assert_close(inner, torch.full_like(inner, 2.0))


def test_fixed_deconv_is_not_a_parameter_nor_saved():
    up = Upsample(channels=21, factor=2)
    assert list(up.parameters()) == [] and up.state_dict() == {}


def test_learnable_deconv_starts_as_the_fixed_one():
    x = torch.randn(2, 4, 5, 6)
    fixed, learned = Upsample(4, 2), Upsample(4, 2, learnable=True)
    assert learned.weight.requires_grad and learned.weight.shape == (4, 4, 4, 4)
    torch.testing.assert_close(learned(x), fixed(x))


def test_bilinear_mode_is_interpolation():
    x = torch.randn(1, 2, 3, 4)
    expected = torch.nn.functional.interpolate(x, scale_factor=4, mode='bilinear')
    torch.testing.assert_close(Upsample(2, 4, mode='bilinear')(x), expected)


def test_bad_upsample_arguments_name_the_problem():
    with pytest.raises(ValueError, match="mode='nearest'"):
        Upsample(2, 2, mode='nearest')
    with pytest.raises(ValueError, match='learn_upsample'):
        Upsample(2, 2, mode='bilinear', learnable=True)


@pytest.mark.parametrize('factor', [2, 4, 8])
@pytest.mark.parametrize('mode', ['deconv', 'bilinear'])
def test_corner_upsampling_puts_input_pixel_j_on_output_factor_times_j(mode, factor):
    """align_corners=True: a pixel's value lands, unchanged, on f * j after the crop
    its output grid asks for; values in between are linear."""
    x = torch.randn(1, 2, 3, 4)
    up = Upsample(2, factor, mode, align_corners=True)
    grid = up.output_grid(Grid(Fraction(factor), Fraction(0)))
    assert grid.stride == 1 and grid.offset <= 0 and grid.offset.denominator == 1
    out = up(x)[..., -int(grid.offset) :, -int(grid.offset) :]
    assert out.shape[-2] >= factor * 3 and out.shape[-1] >= factor * 4
    torch.testing.assert_close(out[..., ::factor, ::factor][..., :3, :4], x)
    middle = out[..., 0, factor // 2]
    torch.testing.assert_close(middle, (x[..., 0, 0] + x[..., 0, 1]) / 2)


def test_corner_deconv_kernel_is_odd_and_learnable_starts_as_fixed():
    fixed = Upsample(3, 4, align_corners=True)
    learned = Upsample(3, 4, learnable=True, align_corners=True)
    assert fixed.weight.shape == (3, 1, 7, 7) and learned.weight.shape == (3, 3, 7, 7)
    x = torch.randn(1, 3, 5, 6)
    torch.testing.assert_close(learned(x), fixed(x))


@pytest.mark.parametrize('mode', ['deconv', 'bilinear'])
def test_alignment_follows_the_grids(mode):
    centre = [Grid(Fraction(s), Fraction(s - 1, 2)) for s in (8, 16)]
    corner = [Grid(Fraction(s), Fraction(0)) for s in (8, 16)]
    assert upsample_alignment(centre[1], centre[0], 2, mode) is False
    assert upsample_alignment(corner[1], corner[0], 2, mode) is True
    assert upsample_alignment(corner[0], Grid.input(), 8, mode) is True
    with pytest.raises(ValueError, match='offset 0.25 on whole pixels'):
        upsample_alignment(Grid(Fraction(16), Fraction(1, 4)), corner[0], 2, mode)
