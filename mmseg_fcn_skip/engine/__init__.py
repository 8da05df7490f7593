"""Reliability of training: exact resumes, seeded data, clear failures.

Writing checkpoints atomically and picking the one ``--resume`` continues from are
in ``mmseg_fcn_skip.checkpoints`` (``atomic_io``, ``resume``).

Importing it registers ``SeededInfiniteSampler`` (``DATA_SAMPLERS``),
``SeededConcatDataset`` (``DATASETS``),
``ApplySampleSeed``, ``CheckSegFiles`` and ``CheckSegPair`` (``TRANSFORMS``),
``IterationSeedHook`` and ``NonFiniteLossHook`` (``HOOKS``).
"""

from .hooks import IterationSeedHook, NonFiniteLossHook
from .samplers import SeededConcatDataset, SeededIndex, SeededInfiniteSampler
from .seeding import derive_seed, seed_global_rngs
from .transforms import ApplySampleSeed, CheckSegFiles, CheckSegPair

__all__ = [
    'ApplySampleSeed',
    'CheckSegFiles',
    'CheckSegPair',
    'IterationSeedHook',
    'NonFiniteLossHook',
    'SeededConcatDataset',
    'SeededIndex',
    'SeededInfiniteSampler',
    'derive_seed',
    'seed_global_rngs',
]
