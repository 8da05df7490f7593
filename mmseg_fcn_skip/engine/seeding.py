"""Random seeds that are pure functions of a base seed and a position.

Resuming a run bit for bit needs every random draw after the resume to be the
draw the uninterrupted run made. Restoring generator states is fragile (other
code draws from the same global generators at points that differ between the
two runs, e.g. each new data loader iterator), so the plugin instead reseeds
the generators from ``derive_seed(base_seed, stream, position)`` wherever the
position is known: per training iteration and per sample drawn.
"""

import random

import numpy as np
import torch

#: Separate seed streams, so the same position in two streams gives
#: unrelated seeds.
STREAM_EPOCH_ORDER = 0
STREAM_SAMPLE = 1
STREAM_ITERATION = 2

_UINT64 = (1 << 64) - 1
_UINT32 = (1 << 32) - 1


def derive_seed(seed: int, stream: int, position: int) -> int:
    """Return a 64-bit seed determined by ``(seed, stream, position)`` alone.

    Nearby inputs give unrelated outputs (it is numpy's ``SeedSequence``
    hash), so consecutive positions do not give correlated random streams.

    Args:
        seed: The base seed of the run; any integer (taken modulo 2**64).
        stream: Which kind of draw, one of the ``STREAM_*`` constants.
        position: Non-negative position in that stream (an epoch, a sample
            position or an iteration).

    Raises:
        ValueError: if ``position`` or ``stream`` is negative.
    """
    if position < 0 or stream < 0:
        raise ValueError(
            f'derive_seed needs a non-negative stream and position, '
            f'got stream={stream}, position={position}'
        )
    sequence = np.random.SeedSequence([int(seed) & _UINT64, stream, position])
    low, high = sequence.generate_state(2, np.uint32)
    return int(low) | (int(high) << 32)


def seed_global_rngs(seed: int) -> None:
    """Seed Python's ``random``, numpy's global generator and torch's generators.

    Args:
        seed: A 64-bit seed, e.g. from :func:`derive_seed`.
    """
    random.seed(seed)
    np.random.seed([seed & _UINT32, (seed >> 32) & _UINT32])
    torch.manual_seed(seed & _UINT64)
