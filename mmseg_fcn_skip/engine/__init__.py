"""Reliability of training: exact resumes, atomic checkpoints, clear failures.

Checkpoints are written atomically (:mod:`.atomic_io`) and ``--resume`` picks the
newest intact one (:mod:`.resume`).

Importing it registers ``SeededInfiniteSampler`` (``DATA_SAMPLERS``),
``SeededConcatDataset`` (``DATASETS``),
``ApplySampleSeed``, ``CheckSegFiles`` and ``CheckSegPair`` (``TRANSFORMS``),
``IterationSeedHook`` and ``NonFiniteLossHook`` (``HOOKS``); the plugin's import
registers the ``'atomic_local'`` file backend.
"""

from .atomic_io import AtomicLocalBackend, use_atomic_checkpoints, write_atomic
from .hooks import IterationSeedHook, NonFiniteLossHook
from .resume import find_resume_checkpoint, resolve_resume
from .samplers import SeededConcatDataset, SeededIndex, SeededInfiniteSampler
from .seeding import derive_seed, seed_global_rngs
from .transforms import ApplySampleSeed, CheckSegFiles, CheckSegPair

__all__ = [
    'AtomicLocalBackend',
    'ApplySampleSeed',
    'CheckSegFiles',
    'CheckSegPair',
    'IterationSeedHook',
    'NonFiniteLossHook',
    'SeededConcatDataset',
    'SeededIndex',
    'SeededInfiniteSampler',
    'derive_seed',
    'find_resume_checkpoint',
    'resolve_resume',
    'seed_global_rngs',
    'use_atomic_checkpoints',
    'write_atomic',
]
