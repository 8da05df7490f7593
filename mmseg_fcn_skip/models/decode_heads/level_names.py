"""Kept only for ``checkpoints.fit``, which still imports :func:`positional_renames`:
delete this module together with that import.

Checkpoints written before the head's layers were keyed by level (``level_key``)
numbered them by position: ``skip_scores.{k}`` finest first and ``fuse_upsamples.{i}``
deepest first. No published checkpoint has that format; the head no longer reads it.
"""

import re
from typing import Dict, Iterable, Sequence

from ..fusion_plan import default_strides, level_key

#: A positional key relative to the head: kind, position, rest of the key.
POSITIONAL_KEY = re.compile(r'(skip_scores|fuse_upsamples)\.(\d+)\.(.+)')


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
        renames[key] = f'{prefix}{kind}.{level_key(stride)}.{rest}'
    return renames
