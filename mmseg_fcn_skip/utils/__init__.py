"""Helpers for the training and testing tools.

Importing this package (as importing the plugin does) lets upstream mmengine
0.10.7 resume and test its own checkpoints under torch >= 2.6; see
:mod:`.compat`.
"""
from .amp import CPUAmpOptimWrapper, enable_amp
from .compat import allow_mmengine_checkpoint_globals
from .launch import close_distributed, prepare_cpu_distributed

allow_mmengine_checkpoint_globals()

__all__ = [
    'CPUAmpOptimWrapper', 'allow_mmengine_checkpoint_globals', 'close_distributed',
    'enable_amp', 'prepare_cpu_distributed'
]
