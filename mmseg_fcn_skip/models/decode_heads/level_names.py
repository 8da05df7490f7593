"""Names of the head's per-level layers, and the positional names they replace.

``FCNSkipHead`` names each skip score layer by the stride of the level it scores
(``skip_scores.stride16`` is pool4's ``score_pool4``, ``stride8`` pool3's, ``stride4``
pool2's) and each fusion upsampling by the stride it upsamples from
(``fuse_upsamples.stride32`` is ``upscore2``, ``stride16`` ``upscore_pool4``). The
names of a level are the same in every variant, so a coarser variant's state dict
loads into a finer one key for key, with any loader.

Checkpoints written before the layers had these names number them by position:
``skip_scores.{k}`` finest first and ``fuse_upsamples.{i}`` deepest first, among the
checkpoint's own levels. :func:`positional_renames` tells which level each of those
is, from how many skip levels the checkpoint has.
"""

import re
from typing import Dict, Iterable, Sequence

#: A positional key relative to the head: kind, position, rest of the key.
POSITIONAL_KEY = re.compile(r'(skip_scores|fuse_upsamples)\.(\d+)\.(.+)')


def level_name(stride: int) -> str:
    """The name of the layer of the level with stride ``stride``: ``'stride<N>'``."""
    return f'stride{stride}'


def default_strides(num_levels: int) -> tuple:
    """Strides of ``num_levels`` levels by default: deepest 32, each finer one half."""
    return tuple(32 >> (num_levels - 1 - k) for k in range(num_levels))


def positional_renames(
    keys: Iterable[str], prefix: str, in_strides: Sequence[int]
) -> Dict[str, str]:
    """New names of the positional head keys among ``keys``.

    The checkpoint's skip levels are taken to be the deepest ones of a head with
    ``in_strides`` (finest first, deepest last) when it has no more skip levels than
    that head, else those of the default strides (see :func:`default_strides`).

    Args:
        keys: State dict keys, e.g. ``decode_head.skip_scores.0.weight``.
        prefix: The head's prefix, e.g. ``'decode_head.'``.
        in_strides: The strides of the head the keys are loaded into.

    Returns:
        dict: ``{old key: new key}`` for every positional key under ``prefix``;
        empty for a state dict with level names (or no skip levels).
    """
    found = {}
    for key in keys:
        if key.startswith(prefix):
            match = POSITIONAL_KEY.fullmatch(key[len(prefix) :])
            if match:
                found[key] = (match.group(1), int(match.group(2)), match.group(3))
    if not found:
        return {}
    skip_positions = {index for kind, index, _ in found.values() if kind == 'skip_scores'}
    fuse_positions = {index for kind, index, _ in found.values() if kind == 'fuse_upsamples'}
    num_skips = max(skip_positions or fuse_positions) + 1
    if num_skips < len(in_strides):
        strides = tuple(in_strides[-num_skips - 1 :])
    else:
        strides = default_strides(num_skips + 1)
    renames = {}
    for key, (kind, index, rest) in found.items():
        if index >= num_skips:
            continue  # more upsamplings than skips: no level to name, left as it is
        # skip k scores level k; fusion i upsamples from the i-th deepest level
        stride = strides[index] if kind == 'skip_scores' else strides[-1 - index]
        renames[key] = f'{prefix}{kind}.{level_name(stride)}.{rest}'
    return renames
