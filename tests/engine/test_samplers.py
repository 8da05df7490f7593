import itertools
import pickle

import pytest
from mmengine.dataset import BaseDataset

from mmseg_fcn_skip.engine import (
    SeededConcatDataset,
    SeededIndex,
    SeededInfiniteSampler,
    derive_seed,
)
from mmseg_fcn_skip.engine.seeding import STREAM_SAMPLE


def _draws(sampler, count):
    return [(int(i), i.seed) for i in itertools.islice(iter(sampler), count)]


def test_each_epoch_is_a_permutation_and_epochs_differ():
    sampler = SeededInfiniteSampler(range(7), seed=3)
    indices = [i for i, _ in _draws(sampler, 21)]
    epochs = [indices[k : k + 7] for k in (0, 7, 14)]
    assert all(sorted(epoch) == list(range(7)) for epoch in epochs)
    assert len({tuple(epoch) for epoch in epochs}) == 3


def test_stream_is_a_pure_function_of_the_seed():
    first = _draws(SeededInfiniteSampler(range(5), seed=11), 12)
    assert _draws(SeededInfiniteSampler(range(5), seed=11), 12) == first
    assert _draws(SeededInfiniteSampler(range(5), seed=12), 12) != first


def test_sample_seed_is_derived_from_the_global_position():
    draws = _draws(SeededInfiniteSampler(range(4), seed=5), 6)
    assert [seed for _, seed in draws] == [derive_seed(5, STREAM_SAMPLE, p) for p in range(6)]
    assert len({seed for _, seed in draws}) == 6


@pytest.mark.parametrize('skipped', [0, 3, 10, 25])
def test_skip_continues_exactly_where_the_full_stream_is(skipped):
    full = _draws(SeededInfiniteSampler(range(6), seed=1), skipped + 8)
    sampler = SeededInfiniteSampler(range(6), seed=1)
    sampler.skip(skipped)
    assert _draws(sampler, 8) == full[skipped:]


def test_skip_positions_are_absolute_not_added_up():
    full = _draws(SeededInfiniteSampler(range(6), seed=1), 12)
    sampler = SeededInfiniteSampler(range(6), seed=1)
    sampler.skip(9)
    sampler.skip(4)  # a second resume: from draw 4, not 13
    assert _draws(sampler, 8) == full[4:]


def test_ranks_split_the_global_stream(monkeypatch):

    single = _draws(SeededInfiniteSampler(range(5), seed=2), 20)
    per_rank = []
    for rank in (0, 1):
        monkeypatch.setattr(
            'mmseg_fcn_skip.engine.samplers.get_dist_info', lambda rank=rank: (rank, 2)
        )
        sampler = SeededInfiniteSampler(range(5), seed=2)
        sampler.skip(3)
        per_rank.append(_draws(sampler, 7))
    assert per_rank[0] == single[6::2][:7]
    assert per_rank[1] == single[7::2][:7]


def test_unshuffled_epochs_run_in_index_order():
    indices = [i for i, _ in _draws(SeededInfiniteSampler(range(3), False, 0), 7)]
    assert indices == [0, 1, 2, 0, 1, 2, 0]


def test_seeded_index_is_an_int_that_keeps_its_seed_when_pickled():
    index = pickle.loads(pickle.dumps(SeededIndex(4, seed=99)))
    assert index == 4 and [10, 11, 12, 13, 14][index] == 14
    assert index.seed == 99


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='empty dataset'):
        SeededInfiniteSampler([], seed=0)
    with pytest.raises(ValueError, match='num_samples must be >= 0, got -1'):
        SeededInfiniteSampler(range(3), seed=0).skip(-1)
    with pytest.raises(ValueError, match='position=-2'):
        derive_seed(0, STREAM_SAMPLE, -2)


class _Listed(BaseDataset):
    """``size`` samples, each just its ``sample_idx``."""

    def __init__(self, size):
        self.size = size
        super().__init__(serialize_data=False)

    def load_data_list(self):
        return [dict() for _ in range(self.size)]


def test_seeded_concat_dataset_passes_the_seed_to_every_dataset():
    concat = SeededConcatDataset([_Listed(3), _Listed(4)])
    first = concat[SeededIndex(1, seed=7)]['sample_idx']
    second = concat[SeededIndex(5, seed=8)]['sample_idx']
    assert (int(first), first.seed) == (1, 7)
    assert (int(second), second.seed) == (2, 8)
    assert type(concat[4]['sample_idx']) is int
