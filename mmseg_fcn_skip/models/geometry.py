"""Where each feature map lies on the input image, and the crops that align two maps.

Every map in a fully convolutional net samples the input on a regular grid: pixel ``j``
of a map (along one axis) is centred on input coordinate ``stride * j + offset``. Each
layer changes the grid in a known way, so the grid of any map follows from the layer
list alone. The FCN crop offsets (19; 5 and 27; 5, 9 and 31 in the reference nets) are
differences between two grids, divided by their common stride.

The levels of a backbone are described by the backbone (``backbones.levels``); the
grids and crops of the head's fusion are planned in ``fusion_plan``.
"""

from fractions import Fraction
from typing import NamedTuple, Sequence, Tuple, Union

Number = Union[int, float, Fraction, str]

#: Names of the two common level grids: where pixel ``j`` of a stride-``s`` level lies.
#: ``'centre'``: on ``s * j + (s - 1) / 2``, the centre of its ``s x s`` input window
#: (2x2 pooling, non-overlapping patch embeddings: FullyConvVGG 'same', Swin).
#: ``'corner'``: on ``s * j`` (centred odd kernels: 3x3 stride 2 pad 1, 7x7 stride 2
#: pad 3, 1x1 stride 2: mmseg's ResNets, MobileNets, MiT).
GRID_NAMES = ('centre', 'corner')


class Grid(NamedTuple):
    """Sampling grid of a feature map along one axis, in input pixel coordinates.

    Pixel ``j`` of the map is centred on input coordinate ``stride * j + offset``.
    Exact fractions are used so that crop offsets come out as exact integers.
    """

    stride: Fraction
    offset: Fraction

    @classmethod
    def input(cls) -> 'Grid':
        """The grid of the input image itself."""
        return cls(Fraction(1), Fraction(0))

    def conv(self, kernel: int, stride: int = 1, padding: int = 0) -> 'Grid':
        """Grid after a convolution or pooling window (dilation 1)."""
        centre = Fraction(kernel - 1, 2) - padding
        return Grid(self.stride * stride, self.offset + self.stride * centre)

    def transposed_conv(self, kernel: int, stride: int, padding: int = 0) -> 'Grid':
        """Grid after a transposed convolution (learned or bilinear upsampling)."""
        shift = Fraction(padding) - Fraction(kernel - 1, 2)
        return Grid(self.stride / stride, self.offset + self.stride * shift / stride)

    def interpolate(self, factor: int) -> 'Grid':
        """Grid after ``F.interpolate(scale_factor=factor, align_corners=False)``."""
        return Grid(
            self.stride / factor, self.offset + self.stride * Fraction(1 - factor, 2 * factor)
        )


def crop_offsets(first: Grid, second: Grid) -> Tuple[int, int]:
    """Leading pixels to drop from two maps of equal stride so that they line up.

    Returns ``(a, b)`` such that ``first[a + j]`` and ``second[b + j]`` are centred on the
    same input coordinate for every ``j``; one of the two is always 0.

    Raises:
        ValueError: if the strides differ or the grids are not a whole number of pixels
            apart (no crop can align them).
    """
    if first.stride != second.stride:
        raise ValueError(
            f'cannot align maps of stride {float(first.stride)} and '
            f'{float(second.stride)}: strides must be equal'
        )
    shift = (second.offset - first.offset) / first.stride
    if shift.denominator != 1:
        raise ValueError(
            f'maps with grid offsets {float(first.offset)} and {float(second.offset)} '
            f'(stride {float(first.stride)}) are {float(shift)} pixels apart; only a '
            'whole-pixel shift can be cropped away'
        )
    shift = int(shift)
    return (shift, 0) if shift >= 0 else (0, -shift)


def named_grid(name: str, stride: int) -> Grid:
    """The grid ``'centre'`` or ``'corner'`` (see ``GRID_NAMES``) of a stride-``stride``
    level."""
    if name not in GRID_NAMES:
        raise ValueError(
            f'grid {name!r} is not a grid name; use one of {GRID_NAMES} or '
            'the offset of pixel 0 of each level'
        )
    offset = Fraction(stride - 1, 2) if name == 'centre' else Fraction(0)
    return Grid(Fraction(stride), offset)


def as_offset(value: Number) -> Fraction:
    """An exact offset from an int, a ``Fraction``, a string such as ``'3/2'`` or a
    float (taken as the nearest fraction of denominator at most 64, e.g. 1.5 -> 3/2)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction, str)):
        raise ValueError(
            f'grid offset {value!r} must be a number (int, float, Fraction '
            "or a string such as '3/2')"
        )
    try:
        offset = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(
            f'grid offset {value!r} is not a number nor a grid name of '
            f"{GRID_NAMES}; write e.g. 0, 1.5 or '3/2'"
        ) from None
    return offset.limit_denominator(64) if isinstance(value, float) else offset


def in_level_grids(
    in_grids: Union[str, Sequence[Number]], in_strides: Sequence[int]
) -> Tuple[Grid, ...]:
    """Grids of levels of ``in_strides``, described by one grid name for all levels
    (see ``GRID_NAMES``) or by one entry per level: a grid name or the offset of
    pixel 0 of the level, in input pixels (see ``as_offset``)."""
    if isinstance(in_grids, str):
        return tuple(named_grid(in_grids, s) for s in in_strides)
    in_grids = tuple(in_grids)
    if len(in_grids) != len(in_strides):
        raise ValueError(
            f'in_grids={in_grids!r} needs one entry per input level '
            f'({len(in_strides)}), or one grid name of {GRID_NAMES}'
        )
    return tuple(
        named_grid(g, s)
        if isinstance(g, str) and g in GRID_NAMES
        else Grid(Fraction(s), as_offset(g))
        for s, g in zip(in_strides, in_grids)
    )
