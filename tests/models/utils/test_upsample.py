import pytest
import torch

from mmseg_fcn_skip.models.utils import Upsample, bilinear_kernel


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
