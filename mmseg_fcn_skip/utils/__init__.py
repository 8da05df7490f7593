"""Helpers for the training and testing tools.

:mod:`.packaged_configs` lets mmengine resolve ``mmseg_fcn_skip::folder/file.py``
config bases; importing the plugin applies it (``mmseg_fcn_skip/__init__.py``).
"""

from .amp import CPUAmpOptimWrapper, enable_amp
from .launch import close_distributed, prepare_cpu_distributed
from .packaged_configs import packaged_config, register_config_scope

__all__ = [
    'CPUAmpOptimWrapper',
    'close_distributed',
    'enable_amp',
    'packaged_config',
    'prepare_cpu_distributed',
    'register_config_scope',
]
