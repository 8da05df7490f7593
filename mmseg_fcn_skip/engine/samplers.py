"""An infinite sampler whose every draw is a pure function of the seed.

mmengine's ``InfiniteSampler`` chains all epochs' permutations off one
generator and leaves data augmentation to whatever state the (worker
process's) global generators are in. After a resume the data loader workers
restart with fresh generator states and take batches in a different
round-robin order, so augmentations differ from the uninterrupted run even
though the indices agree.

:class:`SeededInfiniteSampler` fixes both: the order of epoch ``e`` depends on
``(seed, e)`` only, and every index it yields is a :class:`SeededIndex` that
carries the seed of that draw, ``derive_seed(seed, STREAM_SAMPLE,
position)``, where ``position`` counts draws over all ranks. The
``ApplySampleSeed`` transform at the head of the training pipeline seeds the
global generators from it, so a sample's augmentation depends on its position
in the stream, not on which worker loads it or what was loaded before.
Dataset wrappers must pass the seed on: :class:`SeededConcatDataset` is an
mmengine ``ConcatDataset`` that does.
"""

from typing import Iterator, Optional, Sized

import torch
from mmengine.dataset import ConcatDataset
from mmengine.dist import get_dist_info, sync_random_seed
from mmseg.registry import DATA_SAMPLERS, DATASETS
from torch.utils.data import Sampler

from .seeding import STREAM_EPOCH_ORDER, STREAM_SAMPLE, derive_seed


class SeededIndex(int):
    """A dataset index that also carries the random seed of its draw.

    It is an ``int``, so datasets index with it as usual; mmengine's
    ``BaseDataset`` passes it on as ``results['sample_idx']``, where
    ``ApplySampleSeed`` reads :attr:`seed`.

    Args:
        index: The dataset index.
        seed: The seed for this draw's random augmentation.
    """

    seed: int

    def __new__(cls, index: int, seed: int) -> 'SeededIndex':
        obj = super().__new__(cls, index)
        obj.seed = seed
        return obj

    def __reduce__(self) -> tuple:
        # Data loader workers receive indices pickled; keep the seed.
        return SeededIndex, (int(self), self.seed)

    def __repr__(self) -> str:
        return f'SeededIndex({int(self)}, seed={self.seed})'


@DATASETS.register_module()
class SeededConcatDataset(ConcatDataset):
    """mmengine's ``ConcatDataset`` that keeps the seed of a :class:`SeededIndex`.

    ``ConcatDataset`` turns a global index into a plain ``int`` index of one
    of its datasets, so ``ApplySampleSeed`` would find no seed on samples of
    all but the first dataset; here the local index carries the draw's seed.
    Same arguments as ``ConcatDataset``.
    """

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        dataset_idx, sample_idx = self._get_ori_dataset_idx(idx)
        seed = getattr(idx, 'seed', None)
        if seed is not None:
            sample_idx = SeededIndex(sample_idx, seed)
        return self.datasets[dataset_idx][sample_idx]


@DATA_SAMPLERS.register_module()
class SeededInfiniteSampler(Sampler):
    """Endless shuffled indices for iteration-based training, resumable exactly.

    A drop-in replacement for mmengine's ``InfiniteSampler`` (same arguments,
    same rank slicing: rank ``r`` of ``w`` takes global draws ``r, r + w,
    ...``) whose stream is a pure function of ``seed``:

    - epoch ``e`` (pass ``e`` over the dataset) is ordered by a generator
      seeded with ``derive_seed(seed, STREAM_EPOCH_ORDER, e)``;
    - the draw at global position ``p`` yields ``SeededIndex(index,
      derive_seed(seed, STREAM_SAMPLE, p))``.

    :meth:`skip` jumps to any position without replaying earlier epochs.

    Args:
        dataset: The dataset.
        shuffle: Shuffle each epoch; if False, epochs run in index order.
        seed: Base seed; None draws one and shares it across ranks (as
            mmengine does). The runner passes the ``randomness.seed`` of the
            config here.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: Optional[int] = None) -> None:
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.size = len(dataset)
        if self.size == 0:
            raise ValueError(
                'SeededInfiniteSampler got an empty dataset; check the '
                "dataset's data_root and data_prefix point at the images"
            )
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self._start = 0

    def __iter__(self) -> Iterator[SeededIndex]:
        """Yield this rank's draws, from the position set by :meth:`skip`."""
        position = self.rank + self._start * self.world_size
        while True:
            epoch, offset = divmod(position, self.size)
            order = self._epoch_order(epoch)
            while offset < self.size:
                yield SeededIndex(order[offset], derive_seed(self.seed, STREAM_SAMPLE, position))
                position += self.world_size
                offset += self.world_size

    def __len__(self) -> int:
        """Length of the dataset, as for mmengine's ``InfiniteSampler``."""
        return self.size

    def skip(self, num_samples: int) -> None:
        """Start the next iteration after this rank's first ``num_samples`` draws.

        mmengine's ``IterBasedTrainLoop`` calls this on resume (where it
        supports it) with ``iterations * batch_size``; the position is
        absolute, not relative to earlier calls.

        Raises:
            ValueError: if ``num_samples`` is negative.
        """
        if num_samples < 0:
            raise ValueError(f'num_samples must be >= 0, got {num_samples}')
        self._start = num_samples

    def set_epoch(self, epoch: int) -> None:
        """Ignored: the stream is endless (kept for mmengine's epoch hooks)."""

    def _epoch_order(self, epoch: int) -> list:
        """Dataset indices in the order of pass ``epoch``."""
        if not self.shuffle:
            return list(range(self.size))
        generator = torch.Generator()
        generator.manual_seed(derive_seed(self.seed, STREAM_EPOCH_ORDER, epoch))
        return torch.randperm(self.size, generator=generator).tolist()
