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

    ``'deconv'`` is the FCN layer: a transposed convolution with kernel ``2 * factor``,
    stride ``factor``, no padding and no bias, giving ``(N, C, f * (H + 1), f * (W + 1))``
    (the border is cropped later, by alignment). Its weights start as a bilinear kernel
    per channel; fixed (the default, a depthwise convolution with a constant kernel) or
    learnable (a full channel-to-channel kernel, as in the CVPR-era FCN models).
    ``'bilinear'`` is ``F.interpolate`` and gives ``(N, C, f * H, f * W)``.

    Args:
        channels (int): Channels C of the map.
        factor (int): Upsampling factor, at least 2.
        mode (str): ``'deconv'`` or ``'bilinear'``. Default: ``'deconv'``.
        learnable (bool): Learn the deconv weights. Default: False.
    """

    def __init__(self,
                 channels: int,
                 factor: int,
                 mode: str = 'deconv',
                 learnable: bool = False) -> None:
        super().__init__()
        if mode not in UPSAMPLE_MODES:
            raise ValueError(f'upsample mode={mode!r} is not supported; use one of '
                             f'{UPSAMPLE_MODES}')
        if learnable and mode != 'deconv':
            raise ValueError("learn_upsample=True needs upsample='deconv'; bilinear "
                             'interpolation has no weights to learn')
        self.channels = channels
        self.factor = factor
        self.mode = mode
        self.learnable = learnable
        kernel = bilinear_kernel(2 * factor)
        if learnable:
            weight = torch.zeros(channels, channels, 2 * factor, 2 * factor)
            weight[range(channels), range(channels)] = kernel
            self.weight = nn.Parameter(weight)
        elif mode == 'deconv':
            # A constant: kept out of checkpoints, rebuilt from the factor.
            self.register_buffer(
                'weight', kernel.expand(channels, 1, -1, -1).clone(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == 'bilinear':
            return F.interpolate(x, scale_factor=self.factor, mode='bilinear',
                                 align_corners=False)
        groups = 1 if self.learnable else self.channels
        return F.conv_transpose2d(x, self.weight, stride=self.factor,
                                  groups=groups)

    def output_grid(self, grid: Grid) -> Grid:
        """Grid of the output map, given the grid of the input map."""
        if self.mode == 'bilinear':
            return grid.interpolate(self.factor)
        return grid.transposed_conv(2 * self.factor, self.factor)

    def extra_repr(self) -> str:
        return (f'channels={self.channels}, factor={self.factor}, mode={self.mode!r}, '
                f'learnable={self.learnable}')
