"""Where each feature map lies on the input image, and the crops that align two maps.

Every map in a fully convolutional net samples the input on a regular grid: pixel ``j``
of a map (along one axis) is centred on input coordinate ``stride * j + offset``. Each
layer changes the grid in a known way, so the grid of any map follows from the layer
list alone. The FCN crop offsets (19; 5 and 27; 5, 9 and 31 in the reference nets) are
differences between two grids, divided by their common stride.
"""
from fractions import Fraction
from typing import NamedTuple, Tuple, Union

Number = Union[int, float, Fraction]


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

    def transposed_conv(self,
                        kernel: int,
                        stride: int,
                        padding: int = 0) -> 'Grid':
        """Grid after a transposed convolution (learned or bilinear upsampling)."""
        shift = Fraction(padding) - Fraction(kernel - 1, 2)
        return Grid(self.stride / stride, self.offset + self.stride * shift / stride)

    def interpolate(self, factor: int) -> 'Grid':
        """Grid after ``F.interpolate(scale_factor=factor, align_corners=False)``."""
        return Grid(self.stride / factor,
                    self.offset + self.stride * Fraction(1 - factor, 2 * factor))


def crop_offsets(first: Grid, second: Grid) -> Tuple[int, int]:
    """Leading pixels to drop from two maps of equal stride so that they line up.

    Returns ``(a, b)`` such that ``first[a + j]`` and ``second[b + j]`` are centred on the
    same input coordinate for every ``j``; one of the two is always 0.

    Raises:
        ValueError: if the strides differ or the grids are not a whole number of pixels
            apart (no crop can align them).
    """
    if first.stride != second.stride:
        raise ValueError(f'cannot align maps of stride {float(first.stride)} and '
                         f'{float(second.stride)}: strides must be equal')
    shift = (second.offset - first.offset) / first.stride
    if shift.denominator != 1:
        raise ValueError(
            f'maps with grid offsets {float(first.offset)} and {float(second.offset)} '
            f'(stride {float(first.stride)}) are {float(shift)} pixels apart; only a '
            'whole-pixel shift can be cropped away')
    shift = int(shift)
    return (shift, 0) if shift >= 0 else (0, -shift)
