from fractions import Fraction

import pytest

from mmseg_fcn_skip.models.geometry import Grid, as_offset, crop_offsets, in_level_grids, named_grid


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


def test_named_grids_put_pixel_zero_on_the_window_centre_or_corner():
    assert named_grid('centre', 8) == Grid(Fraction(8), Fraction(7, 2))
    assert named_grid('corner', 8) == Grid(Fraction(8), Fraction(0))
    with pytest.raises(ValueError, match="'middle' is not a grid name"):
        named_grid('middle', 8)


def test_level_grids_from_a_name_or_one_entry_per_level():
    assert in_level_grids('corner', (8, 16)) == (named_grid('corner', 8), named_grid('corner', 16))
    grids = in_level_grids(('centre', 1.5, '3/2', Fraction(-2)), (4, 8, 16, 32))
    assert grids == (
        Grid(Fraction(4), Fraction(3, 2)),
        Grid(Fraction(8), Fraction(3, 2)),
        Grid(Fraction(16), Fraction(3, 2)),
        Grid(Fraction(32), Fraction(-2)),
    )


@pytest.mark.parametrize(
    'in_grids, match',
    [
        (('corner',), 'one entry per input level'),
        (('corner', 'x/2'), "'x/2' is not a number"),
        (('corner', None), 'must be a number'),
        (('corner', True), 'must be a number'),
    ],
)
def test_bad_level_grids_name_the_entry(in_grids, match):
    with pytest.raises(ValueError, match=match):
        in_level_grids(in_grids, (8, 16))


def test_float_offsets_are_read_as_the_fraction_they_round():
    assert as_offset(1 / 3) == Fraction(1, 3) and as_offset(0.1) == Fraction(1, 10)
    assert as_offset('7/2') == as_offset(3.5) == Fraction(7, 2)
