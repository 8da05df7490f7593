"""The geometry of ``FCNSkipHead``'s fusion, planned once when the head is built.

:class:`FusionPlan` owns every rule about where the head's levels lie: their strides
(default, whole multiples, the strides a described backbone has in ``'caffe'`` mode),
their grids, the ``align_corners`` of each upsampling, the crops of every fusion and
of the final map, and the check that the levels a forward gets have the sizes these
promise. Grid maths is in ``geometry``; what a backbone's levels are is in its own
description (``backbones.levels``). docs/modules.md explains the theory.

Level sizes, for each axis, level ``k`` of size ``n_k`` at stride ``s_k`` of
``in_strides``:

- ``'same'``: each level is within one pixel of the next level, counted at the next
  level's stride: ``|n_k - r * n_{k+1}| <= r`` with ``r = s_{k+1} / s_k``; and
  ``floor(H / s_k) <= n_k <= ceil(H / s_k)`` for an input of ``H`` pixels (ceil for
  ``FullyConvVGG(pad_mode='same')`` and mmseg's ResNets, floor for backbones that
  drop a remainder).
- ``'caffe'``: exactly the sizes of the described backbone (e.g.
  ``FullyConvVGG(pad_mode='caffe')``: the pool levels halve, rounding up, down to
  pool5, fc7 is pool5 minus 6, and for an input of ``H`` pixels pool level ``s`` is
  ``ceil((H + 198) / s)``).

A single level with no known input size cannot be checked, and an FCN-32s (fc7 alone)
of one pad mode has the other mode's fc7 size for most input sizes (both are about
``H / 32``); the check catches it when the sizes differ (e.g. for ``H`` a multiple
of 32, as in 512x512 training crops).
"""

import math
from functools import lru_cache
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import torch

from .backbones.levels import BackboneLevels, backbone_levels, check_pad_mode
from .geometry import Grid, crop_offsets, in_level_grids
from .utils.upsample import upsample_alignment, upsampled_grid

#: ``(height, width)`` of each level, finest first.
Sizes = Tuple[Tuple[int, int], ...]
BackboneType = Union[str, BackboneLevels]

PAD_MODE_FIX = (
    'Use one pad mode for backbone and head: the same pad_mode in model.backbone and '
    "model.decode_head (the plugin's configs set both from one line, `pad_mode = ...`)."
)
DILATED_FIX = (
    'Adjacent levels have the same size, so they share one stride: the backbone is '
    'dilated (e.g. ResNetV1c or MobileNetV2 with dilations keep every level at stride '
    '8). FCNSkipHead fuses levels of increasing stride: use the backbone without '
    'dilations (e.g. ResNetV1c strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1)) and '
    "in_strides of its outputs, or use mmseg's FCNHead, which is made for dilated "
    'backbones.'
)
STRIDES_FIX = (
    'Set in_strides to the strides of the backbone outputs chosen by in_index '
    '(FullyConvVGG.out_strides lists them), each 2x or more the previous; for a '
    "dilated backbone use mmseg's FCNHead."
)


def level_key(stride: int) -> str:
    """The key of the head's layers of the level with stride ``stride``:
    ``'stride<N>'`` (``skip_scores.stride16`` scores pool4)."""
    return f'stride{stride}'


def variant_name(in_strides: Sequence[int]) -> str:
    """``'FCN-<s>s'``, ``s`` being the finest of ``in_strides`` (``'FCN-8s'`` for
    ``(8, 16, 32)``)."""
    return f'FCN-{in_strides[0]}s'


def default_strides(num_levels: int) -> tuple:
    """Strides of ``num_levels`` levels by default: deepest 32, each finer one half."""
    return tuple(32 >> (num_levels - 1 - k) for k in range(num_levels))


def fusion_strides(in_strides: Optional[Sequence[int]], num_levels: int) -> tuple:
    """``in_strides`` checked (default: :func:`default_strides`): one per level, the
    first 2 or more, each a whole multiple (2x or more) of the previous.

    Raises:
        ValueError: naming ``in_strides`` and the rule it breaks.
    """
    if in_strides is None:
        if num_levels > 5:
            raise ValueError(f'{num_levels} input levels need explicit in_strides')
        return default_strides(num_levels)
    in_strides = tuple(in_strides)
    if len(in_strides) != num_levels:
        raise ValueError(
            f'in_strides={in_strides!r} needs one stride per input level ({num_levels})'
        )
    steps_ok = all(
        deep % fine == 0 and deep >= 2 * fine for fine, deep in zip(in_strides[:-1], in_strides[1:])
    )
    if in_strides[0] < 2 or not steps_ok:
        raise ValueError(
            f'in_strides={in_strides!r} must start at 2 or more and each '
            'stride must be a whole multiple (2x or more) of the previous; '
            "levels of one stride (a dilated backbone) need mmseg's "
            'FCNHead instead'
        )
    return in_strides


def caffe_levels(backbone: BackboneLevels, in_strides: Sequence[int]) -> Optional[Tuple[int, ...]]:
    """Which of the described levels ``in_strides`` are in ``'caffe'`` mode: skip
    levels finer than the deepest level, then the deepest level (fc7); None if the
    strides are not of such levels."""
    deepest = len(backbone.strides) - 1
    skips = skip_strides(backbone)
    if in_strides[-1] != backbone.strides[deepest] or any(s not in skips for s in in_strides[:-1]):
        return None
    return tuple(backbone.strides.index(s) for s in in_strides[:-1]) + (deepest,)


def skip_strides(backbone: BackboneLevels) -> Tuple[int, ...]:
    """Strides of the described levels that can be skips (finer than the deepest)."""
    return tuple(s for s in backbone.strides[:-1] if s < backbone.strides[-1])


class FusionStep(NamedTuple):
    """One upsampling of the fused score, deepest first.

    Attributes:
        key: :func:`level_key` of the stride it upsamples from.
        factor: Upsampling factor.
        align_corners: The ``Upsample``'s ``align_corners``.
        up_crop: Leading pixels dropped from the upsampled score.
        skip_crop: Leading pixels dropped from the skip level's score (final: 0).
    """

    key: str
    factor: int
    align_corners: bool
    up_crop: int
    skip_crop: int


class FusionPlan:
    """Strides, grids, upsamplings and crops of an ``FCNSkipHead``, and its size check.

    Args:
        num_levels (int): Number of input levels.
        in_strides (Sequence[int], optional): Stride of each level, finest first
            (see :func:`fusion_strides`). Default: None (:func:`default_strides`).
        pad_mode (str): ``'same'`` (grids from ``in_grids``) or ``'caffe'`` (the
            grids and sizes of the described ``backbone_type``). Default: ``'same'``.
        in_grids (str or Sequence, optional): For ``'same'``: a grid name for all
            levels or one entry per level (``geometry.in_level_grids``). Default:
            None (``'centre'``).
        upsample (str): ``'deconv'`` or ``'bilinear'``. Default: ``'deconv'``.
        backbone_type (str or BackboneLevels): The described backbone of ``'caffe'`` mode,
            by type name. Default: ``'FullyConvVGG'``.

    Attributes:
        backbone (BackboneLevels): The description of ``backbone_type``.
        grids (tuple[Grid]): Grid of each level, finest first.
        fusions (tuple[FusionStep]): The upsamplings to each skip level, deepest
            first (one fewer than the levels).
        final (FusionStep): The upsampling of the finest fused score to the input.
    """

    def __init__(
        self,
        num_levels: int,
        in_strides: Optional[Sequence[int]] = None,
        pad_mode: str = 'same',
        in_grids: Optional[Union[str, Sequence]] = None,
        upsample: str = 'deconv',
        backbone_type: BackboneType = 'FullyConvVGG',
    ) -> None:
        self.in_strides = fusion_strides(in_strides, num_levels)
        check_pad_mode(pad_mode)
        self.backbone = backbone_levels(backbone_type)
        if in_grids is not None and pad_mode == 'caffe':
            raise ValueError(
                f"in_grids={in_grids!r} with pad_mode='caffe': the caffe levels have "
                f"{self.backbone.type_name}'s grids; leave in_grids out"
            )
        self.pad_mode = pad_mode
        self.in_grids = (
            in_grids if in_grids is None or isinstance(in_grids, str) else tuple(in_grids)
        )
        self.upsample = upsample
        self.grids = self._level_grids()
        corners = self._align_corners()
        self.fusions, grid = self._plan_fusions(corners)
        self.final = self._plan_final(grid, corners[0])

    @property
    def fuse_crops(self) -> List[Tuple[int, int]]:
        """``(up_crop, skip_crop)`` of each fusion, deepest first."""
        return [(step.up_crop, step.skip_crop) for step in self.fusions]

    def mismatch(
        self, sizes: Sizes, input_sizes: Tuple[Tuple[int, int], ...] = ()
    ) -> Optional[str]:
        """Why levels of ``sizes`` are not those of the plan, or None (see
        :func:`level_mismatch`)."""
        return level_mismatch(self.pad_mode, self.in_strides, sizes, input_sizes, self.backbone)

    def _level_grids(self) -> Tuple[Grid, ...]:
        if self.pad_mode == 'same':
            return in_level_grids(self.in_grids or 'centre', self.in_strides)
        chosen = caffe_levels(self.backbone, self.in_strides)
        if chosen is None:
            raise ValueError(
                f"in_strides={self.in_strides!r} with pad_mode='caffe' must be "
                f'{self.backbone.family} pool levels of strides {skip_strides(self.backbone)} '
                f'followed by {self.backbone.names[-1]} (stride {self.backbone.strides[-1]})'
            )
        grids = self.backbone.grids('caffe')
        return tuple(grids[k] for k in chosen)

    def _align_corners(self) -> List[bool]:
        """``align_corners`` of each upsampling, finest first: entry 0 upsamples level
        0 to the input, entry ``k`` level ``k`` to level ``k - 1``.

        A fused map lies on the grid of its finer level up to whole pixels, so each
        step depends on its two levels only."""
        targets = [Grid.input()] + list(self.grids[:-1])
        return [
            upsample_alignment(source, target, int(source.stride / target.stride), self.upsample)
            for source, target in zip(self.grids, targets)
        ]

    def _plan_fusions(self, corners: List[bool]) -> Tuple[Tuple[FusionStep, ...], Grid]:
        """The fusions, deepest first, and the grid of the finest fused score."""
        steps, grid = [], self.grids[-1]
        strides = self.in_strides
        for k in reversed(range(len(strides) - 1)):
            factor = strides[k + 1] // strides[k]
            up_grid = upsampled_grid(grid, factor, self.upsample, corners[k + 1])
            up_crop, skip_crop = crop_offsets(up_grid, self.grids[k])
            key = level_key(strides[k + 1])
            steps.append(FusionStep(key, factor, corners[k + 1], up_crop, skip_crop))
            grid = Grid(up_grid.stride, up_grid.offset + up_grid.stride * up_crop)
        return tuple(steps), grid

    def _plan_final(self, grid: Grid, align_corners: bool) -> FusionStep:
        factor = self.in_strides[0]
        up_grid = upsampled_grid(grid, factor, self.upsample, align_corners)
        final_crop, input_crop = crop_offsets(up_grid, Grid.input())
        if input_crop:
            raise ValueError(
                f'with pad_mode={self.pad_mode!r} and in_grids={self.in_grids!r} the '
                f'upsampled scores start {input_crop} px inside the image and cannot '
                'cover it; check pad_mode, in_grids and in_strides against the backbone '
                '(tools/analysis_tools/probe_grids.py measures its grids)'
            )
        return FusionStep(level_key(factor), factor, align_corners, final_crop, 0)


@lru_cache(maxsize=1024)
def level_mismatch(
    pad_mode: str,
    in_strides: Tuple[int, ...],
    sizes: Sizes,
    input_sizes: Tuple[Tuple[int, int], ...] = (),
    backbone_type: BackboneType = 'FullyConvVGG',
) -> Optional[str]:
    """Why levels of ``sizes`` cannot be those ``FCNSkipHead`` expects, or None.

    Cached: a valid setup pays for it once per combination of sizes.

    Args:
        pad_mode: The head's pad mode, ``'same'`` or ``'caffe'``.
        in_strides: The head's stride of each level, finest first.
        sizes: ``(height, width)`` of each level, finest first.
        input_sizes: Candidates for the ``(height, width)`` of the network input (the
            image metas name it differently in training, whole and slide inference);
            the levels must fit one of them. Empty when unknown.
        backbone_type: The described backbone of ``'caffe'`` mode. Default: ``'FullyConvVGG'``.

    Returns:
        The error message: what is wrong and the fix; None if the levels fit.
    """
    backbone = backbone_levels(backbone_type)
    if _fits(pad_mode, in_strides, sizes, None, backbone) and (
        not input_sizes
        or any(_fits(pad_mode, in_strides, sizes, size, backbone) for size in input_sizes)
    ):
        return None
    input_size = input_sizes[0] if input_sizes else None
    message = (
        f'FCNSkipHead(pad_mode={pad_mode!r}, in_strides={in_strides}) got levels '
        f'of sizes {_format(sizes)}'
    )
    if input_size is not None:
        message += (
            f' for a network input of {_format([input_size])}, where it '
            f'expects {_expected(pad_mode, in_strides, input_size, backbone)}'
        )
    elif pad_mode == 'same':
        message += (
            ', where it expects each level to be in_strides[k + 1] / '
            'in_strides[k] times the size of the next, to within one pixel of '
            'the next'
        )
    else:
        message += f", where {backbone.type_name}(pad_mode='caffe') {backbone.caffe_size_rule}"
    return f'{message}. {_cause(pad_mode, in_strides, sizes, input_size, backbone)}'


def input_size_candidates(meta: dict) -> Tuple[Tuple[int, int], ...]:
    """The ``(height, width)`` the network input may have, from one image's metas.

    ``batch_input_shape`` if given; the size ``predict_by_feat`` crops to (a
    ``torch.Size`` ``img_shape`` in slide inference, else ``pad_shape``, else
    ``img_shape``); then the other of ``pad_shape`` and ``img_shape``.
    """
    keys = ['batch_input_shape', 'img_shape', 'pad_shape']
    if 'pad_shape' in meta and not isinstance(meta.get('img_shape'), torch.Size):
        keys = ['batch_input_shape', 'pad_shape', 'img_shape']
    sizes = []
    for key in keys:
        shape = meta.get(key)
        if shape is not None and len(shape) >= 2:
            size = (int(shape[0]), int(shape[1]))
            if size not in sizes:
                sizes.append(size)
    return tuple(sizes)


def _fits(
    pad_mode: str,
    in_strides: Sequence[int],
    sizes: Sizes,
    input_size: Optional[Tuple[int, int]],
    backbone: BackboneLevels,
) -> bool:
    chosen = caffe_levels(backbone, in_strides) if pad_mode == 'caffe' else None
    if pad_mode == 'caffe' and chosen is None:
        return False
    for axis in (0, 1):
        lengths = [size[axis] for size in sizes]
        length = None if input_size is None else input_size[axis]
        if pad_mode == 'same' and not _fits_same(in_strides, lengths, length):
            return False
        if pad_mode == 'caffe' and not _fits_caffe(backbone, chosen, lengths, length):
            return False
    return True


def _fits_same(in_strides: Sequence[int], lengths: Sequence[int], length: Optional[int]) -> bool:
    for k in range(len(lengths) - 1):
        ratio = in_strides[k + 1] // in_strides[k]
        if abs(lengths[k] - ratio * lengths[k + 1]) > ratio:
            return False
    return length is None or all(
        length // stride <= n <= -(-length // stride) for n, stride in zip(lengths, in_strides)
    )


def _fits_caffe(
    backbone: BackboneLevels, chosen: Sequence[int], lengths: Sequence[int], length: Optional[int]
) -> bool:
    if length is not None:
        return list(lengths) == _caffe_sizes(backbone, chosen, length)
    deepest = [backbone.deepest_size(k, n, 'caffe') for k, n in zip(chosen[:-1], lengths[:-1])]
    return all(n == lengths[-1] for n in deepest)


def _caffe_sizes(backbone: BackboneLevels, chosen: Sequence[int], length: int) -> list:
    sizes = backbone.sizes('caffe', length)
    return [sizes[k] for k in chosen]


def _expected(
    pad_mode: str, in_strides: Sequence[int], input_size: Tuple[int, int], backbone: BackboneLevels
) -> str:
    height, width = input_size
    if pad_mode == 'caffe':
        chosen = caffe_levels(backbone, in_strides)
        sizes = zip(_caffe_sizes(backbone, chosen, height), _caffe_sizes(backbone, chosen, width))
        return f"{_format(sizes)} (those of {backbone.type_name}(pad_mode='caffe'))"
    sizes = [(-(-height // s), -(-width // s)) for s in in_strides]
    return f'{_format(sizes)} (ceil(size / stride), or floor)'


def _cause(
    pad_mode: str,
    in_strides: Tuple[int, ...],
    sizes: Sizes,
    input_size: Optional[Tuple[int, int]],
    backbone: BackboneLevels,
) -> str:
    other = 'caffe' if pad_mode == 'same' else 'same'
    if _fits(other, in_strides, sizes, input_size, backbone):
        first = backbone.windows[0]
        if other == 'caffe':
            who = (
                f"{backbone.type_name}(pad_mode='caffe') ({first.name} padded by "
                f'{first.pad("caffe")}), not of a same-padded backbone'
            )
        else:
            who = (
                f"a same-padded backbone ({backbone.type_name}(pad_mode='same') or one "
                f'without the {first.pad("caffe")}-pixel pad), not of '
                f"{backbone.type_name}(pad_mode='caffe')"
            )
        return f'These are the levels of {who}. {PAD_MODE_FIX}'
    if any(
        abs(fine[0] - deep[0]) <= 1 and abs(fine[1] - deep[1]) <= 1
        for fine, deep in zip(sizes[:-1], sizes[1:])
    ):
        return DILATED_FIX
    if input_size is not None:
        return f'The sizes fit strides of about {_strides_of(sizes, input_size)}. {STRIDES_FIX}'
    return STRIDES_FIX


def _strides_of(sizes: Sizes, input_size: Tuple[int, int]) -> Tuple[int, ...]:
    """Power-of-two stride nearest to ``input / level`` along the longer input axis."""
    axis = 0 if input_size[0] >= input_size[1] else 1
    return tuple(2 ** round(math.log2(input_size[axis] / max(size[axis], 1))) for size in sizes)


def _format(sizes) -> str:
    return ', '.join(f'{height}x{width}' for height, width in sizes)
