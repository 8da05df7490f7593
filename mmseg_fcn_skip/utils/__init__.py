"""Helpers for the training and testing tools.

:mod:`.compat` lets upstream mmengine 0.10.7 resume and test its own checkpoints under
torch >= 2.6 and :mod:`.packaged_configs` lets mmengine resolve
``mmseg_fcn_skip::folder/file.py`` config bases; importing the plugin applies both
(``mmseg_fcn_skip/__init__.py``).
"""

from .amp import CPUAmpOptimWrapper, enable_amp
from .compat import allow_mmengine_checkpoint_globals
from .launch import close_distributed, prepare_cpu_distributed
from .packaged_configs import packaged_config, register_config_scope

__all__ = [
    'CPUAmpOptimWrapper',
    'allow_mmengine_checkpoint_globals',
    'close_distributed',
    'enable_amp',
    'packaged_config',
    'prepare_cpu_distributed',
    'register_config_scope',
]
