"""Whether the levels an ``FCNSkipHead`` receives fit its ``in_strides`` and pad mode.

The head aligns its levels by geometry fixed at build time; a backbone whose levels
lie elsewhere (another pad mode, a dilated backbone, other strides) would give
misaligned logits without any error. The sizes of the levels betray it: relative to
each other, and to the network input when that is known.

Rules, for each axis, level ``k`` of size ``n_k`` at stride ``s_k`` of ``in_strides``:

- ``'same'``: each level is within one pixel of the next level, counted at the next
  level's stride: ``|n_k - r * n_{k+1}| <= r`` with ``r = s_{k+1} / s_k``; and
  ``floor(H / s_k) <= n_k <= ceil(H / s_k)`` for an input of ``H`` pixels (ceil for
  ``FullyConvVGG(pad_mode='same')`` and mmseg's ResNets, floor for backbones that
  drop a remainder).
- ``'caffe'``: exactly the sizes of ``FullyConvVGG(pad_mode='caffe')``: the pool
  levels halve (rounding up) down to pool5, fc7 is pool5 minus 6, and for an input of
  ``H`` pixels pool level ``s`` is ``ceil((H + 198) / s)``.

A single level with no known input size cannot be checked, and an FCN-32s (fc7 alone)
of one pad mode has the other mode's fc7 size for most input sizes (both are about
``H / 32``); the check catches it when the sizes differ (e.g. for ``H`` a multiple
of 32, as in 512x512 training crops).
"""

import math
from functools import lru_cache
from typing import Optional, Sequence, Tuple

import torch

from ..geometry import LEVEL_STRIDES, level_sizes

#: ``(height, width)`` of each level, finest first.
Sizes = Tuple[Tuple[int, int], ...]

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


@lru_cache(maxsize=1024)
def level_mismatch(
    pad_mode: str,
    in_strides: Tuple[int, ...],
    sizes: Sizes,
    input_sizes: Tuple[Tuple[int, int], ...] = (),
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

    Returns:
        The error message: what is wrong and the fix; None if the levels fit.
    """
    if _fits(pad_mode, in_strides, sizes, None) and (
        not input_sizes or any(_fits(pad_mode, in_strides, sizes, size) for size in input_sizes)
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
            f'expects {_expected(pad_mode, in_strides, input_size)}'
        )
    elif pad_mode == 'same':
        message += (
            ', where it expects each level to be in_strides[k + 1] / '
            'in_strides[k] times the size of the next, to within one pixel of '
            'the next'
        )
    else:
        message += (
            ", where FullyConvVGG(pad_mode='caffe') gives pool levels that "
            'halve (rounding up) down to pool5 and fc7 6 pixels smaller than '
            'pool5'
        )
    return f'{message}. {_cause(pad_mode, in_strides, sizes, input_size)}'


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
    pad_mode: str, in_strides: Sequence[int], sizes: Sizes, input_size: Optional[Tuple[int, int]]
) -> bool:
    if pad_mode == 'caffe' and not _caffe_strides(in_strides):
        return False
    for axis in (0, 1):
        levels = [size[axis] for size in sizes]
        length = None if input_size is None else input_size[axis]
        if pad_mode == 'same' and not _fits_same(in_strides, levels, length):
            return False
        if pad_mode == 'caffe' and not _fits_caffe(in_strides, levels, length):
            return False
    return True


def _fits_same(in_strides: Sequence[int], levels: Sequence[int], length: Optional[int]) -> bool:
    for k in range(len(levels) - 1):
        ratio = in_strides[k + 1] // in_strides[k]
        if abs(levels[k] - ratio * levels[k + 1]) > ratio:
            return False
    return length is None or all(
        length // stride <= n <= -(-length // stride) for n, stride in zip(levels, in_strides)
    )


def _fits_caffe(in_strides: Sequence[int], levels: Sequence[int], length: Optional[int]) -> bool:
    if length is not None:
        return list(levels) == _caffe_sizes(in_strides, length)
    pool5 = [-(-n // (32 // s)) for n, s in zip(levels[:-1], in_strides[:-1])]
    return all(p == levels[-1] + 6 for p in pool5)


def _caffe_strides(in_strides: Sequence[int]) -> bool:
    return in_strides[-1] == 32 and all(s in LEVEL_STRIDES[:4] for s in in_strides[:-1])


def _caffe_sizes(in_strides: Sequence[int], length: int) -> list:
    vgg = level_sizes('caffe', length)
    return [vgg[LEVEL_STRIDES.index(s)] for s in in_strides[:-1]] + [vgg[-1]]


def _expected(pad_mode: str, in_strides: Sequence[int], input_size: Tuple[int, int]) -> str:
    height, width = input_size
    if pad_mode == 'caffe':
        sizes = zip(_caffe_sizes(in_strides, height), _caffe_sizes(in_strides, width))
        return f"{_format(sizes)} (those of FullyConvVGG(pad_mode='caffe'))"
    sizes = [(-(-height // s), -(-width // s)) for s in in_strides]
    return f'{_format(sizes)} (ceil(size / stride), or floor)'


def _cause(
    pad_mode: str, in_strides: Tuple[int, ...], sizes: Sizes, input_size: Optional[Tuple[int, int]]
) -> str:
    other = 'caffe' if pad_mode == 'same' else 'same'
    if _fits(other, in_strides, sizes, input_size):
        if other == 'caffe':
            backbone = (
                "FullyConvVGG(pad_mode='caffe') (conv1_1 padded by 100), not of "
                'a same-padded backbone'
            )
        else:
            backbone = (
                "a same-padded backbone (FullyConvVGG(pad_mode='same') or one "
                'without the 100-pixel pad), not of FullyConvVGG(pad_mode='
                "'caffe')"
            )
        return f'These are the levels of {backbone}. {PAD_MODE_FIX}'
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
