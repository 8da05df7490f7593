"""Upsampling by a whole factor: a transposed convolution with bilinear weights, or
plain bilinear interpolation."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..geometry import Grid

UPSAMPLE_MODES = ('deconv', 'bilinear')


def bilinear_kernel(size: int) -> Tensor:
    """2-D bilinear interpolation kernel of shape ``(size, size)``.

    A transposed convolution with stride ``f`` and this kernel of size ``2 * f``
    interpolates bilinearly by ``f`` (the FCN upsampling filter).
    """
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    ramp = 1 - (torch.arange(size, dtype=torch.float64) - centre).abs() / factor
    return torch.outer(ramp, ramp).float()


class Upsample(nn.Module):
    """Upsample a ``(N, C, H, W)`` score map by ``factor`` in each spatial dimension.

    ``'deconv'`` is the FCN layer: a transposed convolution with stride ``factor``, no
    padding and no bias. Its weights start as a bilinear kernel per channel; fixed (the
    default, a depthwise convolution with a constant kernel) or learnable (a full
    channel-to-channel kernel, as in the CVPR-era FCN models). ``'bilinear'`` is
    ``F.interpolate``.

    ``align_corners`` says which input grid it suits (see ``output_grid``):

    - False (centre-aligned levels, pixel ``j`` on ``s * j + (s - 1) / 2``): the deconv
      kernel is ``2 * factor`` and gives ``(N, C, f * (H + 1), f * (W + 1))`` (the
      border is cropped later, by alignment); bilinear is ``align_corners=False`` and
      gives ``(N, C, f * H, f * W)``. Input pixel ``j`` lands on output ``f * j +
      (f - 1) / 2``, the FCN filter.
    - True (corner-aligned levels, pixel ``j`` on ``s * j``): the deconv kernel is
      ``2 * factor - 1`` (odd, centred) and gives ``(N, C, f * (H + 1) - 1, ...)``;
      bilinear repeats the last row and column and interpolates with
      ``align_corners=True`` onto ``(N, C, f * H + 1, f * W + 1)``. Input pixel ``j``
      lands on output ``f * j`` (deconv: after a crop of ``f - 1``).

    Args:
        channels (int): Channels C of the map.
        factor (int): Upsampling factor, at least 2.
        mode (str): ``'deconv'`` or ``'bilinear'``. Default: ``'deconv'``.
        learnable (bool): Learn the deconv weights. Default: False.
        align_corners (bool): Corner-aligned sampling, see above. Default: False.
    """

    def __init__(
        self,
        channels: int,
        factor: int,
        mode: str = 'deconv',
        learnable: bool = False,
        align_corners: bool = False,
    ) -> None:
        super().__init__()
        if mode not in UPSAMPLE_MODES:
            raise ValueError(
                f'upsample mode={mode!r} is not supported; use one of {UPSAMPLE_MODES}'
            )
        if learnable and mode != 'deconv':
            raise ValueError(
                "learn_upsample=True needs upsample='deconv'; bilinear "
                'interpolation has no weights to learn'
            )
        self.channels = channels
        self.factor = factor
        self.mode = mode
        self.learnable = learnable
        self.align_corners = align_corners
        size = 2 * factor - 1 if align_corners else 2 * factor
        kernel = bilinear_kernel(size)
        if learnable:
            weight = torch.zeros(channels, channels, size, size)
            weight[range(channels), range(channels)] = kernel
            self.weight = nn.Parameter(weight)
        elif mode == 'deconv':
            # A constant: kept out of checkpoints, rebuilt from the factor.
            self.register_buffer(
                'weight', kernel.expand(channels, 1, -1, -1).clone(), persistent=False
            )

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == 'bilinear' and self.align_corners:
            x = F.pad(x, [0, 1, 0, 1], mode='replicate')
            size = ((x.shape[-2] - 1) * self.factor + 1, (x.shape[-1] - 1) * self.factor + 1)
            return F.interpolate(x, size=size, mode='bilinear', align_corners=True)
        if self.mode == 'bilinear':
            return F.interpolate(x, scale_factor=self.factor, mode='bilinear', align_corners=False)
        groups = 1 if self.learnable else self.channels
        return F.conv_transpose2d(x, self.weight, stride=self.factor, groups=groups)

    def output_grid(self, grid: Grid) -> Grid:
        """Grid of the output map, given the grid of the input map."""
        return upsampled_grid(grid, self.factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        return (
            f'channels={self.channels}, factor={self.factor}, mode={self.mode!r}, '
            f'learnable={self.learnable}, align_corners={self.align_corners}'
        )


def upsampled_grid(grid: Grid, factor: int, mode: str, align_corners: bool) -> Grid:
    """Grid of ``Upsample(..., factor, mode, align_corners=align_corners)``'s output,
    given the grid of its input."""
    if mode == 'bilinear' and align_corners:
        return Grid(grid.stride / factor, grid.offset)
    if mode == 'bilinear':
        return grid.interpolate(factor)
    kernel = 2 * factor - 1 if align_corners else 2 * factor
    return grid.transposed_conv(kernel, factor)


def upsample_alignment(source: Grid, target: Grid, factor: int, mode: str) -> bool:
    """The ``align_corners`` with which an ``Upsample`` by ``factor`` puts a map of grid
    ``source`` on the grid of ``target`` up to a whole-pixel crop: False where that
    works (centre-aligned levels, the FCN filter), else True (corner-aligned levels).

    Raises:
        ValueError: if neither does (the grids are a fraction of a pixel apart either
            way), naming the grids.
    """
    for align_corners in (False, True):
        grid = upsampled_grid(source, factor, mode, align_corners)
        shift = (target.offset - grid.offset) / target.stride
        if grid.stride == target.stride and shift.denominator == 1:
            return align_corners
    raise ValueError(
        f'no {mode} upsampling by {factor} puts a level of stride {float(source.stride)}'
        f' and offset {float(source.offset)} on whole pixels of the level of stride '
        f'{float(target.stride)} and offset {float(target.offset)}; give in_grids the '
        'offsets the backbone has (tools/analysis_tools/probe_grids.py measures them): within a '
        "stride, each level's offset must be a whole number of pixels of the next "
        'finer level from the upsampled one'
    )
