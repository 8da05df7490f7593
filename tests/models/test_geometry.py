from fractions import Fraction

import pytest

from mmseg_fcn_skip.models.geometry import Grid, crop_offsets


def test_conv_and_pool_move_the_grid():
    grid = Grid.input().conv(3, padding=100).conv(2, stride=2)
    assert grid == Grid(Fraction(2), Fraction(-197, 2))


def test_transposed_conv_inverts_a_strided_conv():
    grid = Grid(Fraction(32), Fraction(31, 2))
    up = grid.transposed_conv(4, 2, padding=1)
    assert up == Grid(Fraction(16), Fraction(15, 2))


def test_interpolate_matches_half_factor_padded_deconv():
    grid = Grid(Fraction(8), Fraction(7, 2))
    assert grid.interpolate(8) == grid.transposed_conv(16, 8, padding=4)


def test_crop_offsets_drop_from_the_map_that_starts_earlier():
    early = Grid(Fraction(16), Fraction(-80))
    late = Grid(Fraction(16), Fraction(0))
    assert crop_offsets(early, late) == (5, 0)
    assert crop_offsets(late, early) == (0, 5)


def test_crop_offsets_reject_unalignable_grids():
    with pytest.raises(ValueError, match='strides must be equal'):
        crop_offsets(Grid(Fraction(8), Fraction(0)), Grid(Fraction(16), Fraction(0)))
    with pytest.raises(ValueError, match='whole-pixel'):
        crop_offsets(Grid(Fraction(8), Fraction(0)), Grid(Fraction(8), Fraction(4)))
