"""Reliability of training: exact resumes, atomic checkpoints, clear failures.

Checkpoints are written atomically (:mod:`.atomic_io`) and ``--resume`` picks the
newest intact one (:mod:`.resume`).

Importing it registers ``SeededInfiniteSampler`` (``DATA_SAMPLERS``),
``SeededConcatDataset`` (``DATASETS``),
``ApplySampleSeed``, ``CheckSegFiles`` and ``CheckSegPair`` (``TRANSFORMS``),
``IterationSeedHook``, ``NonFiniteLossHook`` and ``NumClassesCheckHook`` (``HOOKS``);
the checks the tools run before building anything are in :mod:`.preflight`; the plugin's import
registers the ``'atomic_local'`` file backend.
"""

from .atomic_io import AtomicLocalBackend, use_atomic_checkpoints, write_atomic
from .hooks import IterationSeedHook, NonFiniteLossHook
from .preflight import NumClassesCheckHook, exit_on_errors, preflight_test, preflight_train
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
    'NumClassesCheckHook',
    'SeededConcatDataset',
    'SeededIndex',
    'SeededInfiniteSampler',
    'derive_seed',
    'exit_on_errors',
    'find_resume_checkpoint',
    'preflight_test',
    'preflight_train',
    'resolve_resume',
    'seed_global_rngs',
    'use_atomic_checkpoints',
    'write_atomic',
]
