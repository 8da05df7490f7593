"""Reliability of training: exact resumes, seeded data, clear failures.

Writing checkpoints atomically and picking the one ``--resume`` continues from are
in ``mmseg_fcn_skip.checkpoints`` (``atomic_io``, ``resume``).

Importing it registers ``SeededInfiniteSampler`` (``DATA_SAMPLERS``),
``SeededConcatDataset`` (``DATASETS``),
``ApplySampleSeed``, ``CheckSegFiles`` and ``CheckSegPair`` (``TRANSFORMS``),
``IterationSeedHook``, ``NonFiniteLossHook`` and ``NumClassesCheckHook`` (``HOOKS``);
the checks the tools run before building anything are in :mod:`.preflight`.
"""

from .hooks import IterationSeedHook, NonFiniteLossHook
from .preflight import NumClassesCheckHook, exit_on_errors, preflight_test, preflight_train
from .samplers import SeededConcatDataset, SeededIndex, SeededInfiniteSampler
from .seeding import derive_seed, seed_global_rngs
from .transforms import ApplySampleSeed, CheckSegFiles, CheckSegPair

__all__ = [
    'ApplySampleSeed',
    'CheckSegFiles',
    'CheckSegPair',
    'IterationSeedHook',
    'NonFiniteLossHook',
    'NumClassesCheckHook',
    'SeededConcatDataset',
    'SeededIndex',
    'SeededInfiniteSampler',
    'derive_seed',
    'exit_on_errors',
    'preflight_test',
    'preflight_train',
    'seed_global_rngs',
]
