import random

import numpy as np
import pytest
import torch

from mmseg_fcn_skip.engine.seeding import (
    STREAM_EPOCH_ORDER,
    STREAM_ITERATION,
    STREAM_SAMPLE,
    derive_seed,
    seed_global_rngs,
)


def _seed_sequence_seed(seed: int, stream: int, position: int) -> int:
    """The 64-bit seed numpy's SeedSequence hash gives for the three numbers."""
    low, high = np.random.SeedSequence([seed, stream, position]).generate_state(2, np.uint32)
    return int(low) + (int(high) << 32)


@pytest.mark.parametrize('seed,stream,position', [(0, 0, 0), (42, 1, 7), (2**40, 2, 3)])
def test_derive_seed_is_the_64_bit_seed_sequence_hash(seed, stream, position):
    derived = derive_seed(seed, stream, position)
    assert derived == _seed_sequence_seed(seed, stream, position)


def test_streams_are_distinct_and_seeds_wrap_at_64_bits():
    assert len({STREAM_EPOCH_ORDER, STREAM_SAMPLE, STREAM_ITERATION}) == 3
    assert len({derive_seed(1, s, 4) for s in range(3)}) == 3
    assert derive_seed(-1, 0, 0) == derive_seed(2**64 - 1, 0, 0)
    # The high half of the derived seed is used: 64 bits, not 32.
    assert max(derive_seed(0, 0, p) for p in range(8)) >= 2**32


def test_negative_positions_are_refused():
    with pytest.raises(ValueError, match='stream=0, position=-1'):
        derive_seed(0, 0, -1)
    with pytest.raises(ValueError, match='stream=-2, position=0'):
        derive_seed(0, -2, 0)


@pytest.mark.parametrize('seed', [5, 5 + (7 << 32)])
def test_seed_global_rngs_seeds_random_numpy_and_torch_from_all_64_bits(seed):
    seed_global_rngs(seed)
    drawn = random.random(), np.random.rand(3), torch.rand(3)
    assert drawn[0] == random.Random(seed).random()
    expected = np.random.RandomState([seed & 0xFFFFFFFF, seed >> 32]).rand(3)
    assert np.array_equal(drawn[1], expected)
    assert torch.equal(drawn[2], torch.rand(3, generator=torch.Generator().manual_seed(seed)))


def test_seeds_differing_in_the_high_bits_draw_differently():
    """torch's CPU generator keeps only the low 32 bits; random and numpy use all 64."""
    draws = []
    for seed in (9, 9 + (1 << 32)):
        seed_global_rngs(seed)
        draws.append((random.random(), np.random.rand()))
    assert all(a != b for a, b in zip(*draws))
