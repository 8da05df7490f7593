"""Speed options for training and inference: channels-last memory format and an
optimizer constructor that lets mmengine's ``compile = True`` work.

Imported (and so registered) by ``import mmseg_fcn_skip``, as the default runtime's
``custom_imports`` does: a config names ``ChannelsLastHook``,
``ChannelsLastSegDataPreProcessor`` or ``CompilableOptimWrapperConstructor`` like any
other module. Measurements (FLOPs, throughput) are tools:
``tools/analysis_tools/benchmark.py`` and ``get_flops.py`` (docs/performance.md).
"""

from .channels_last import (
    ChannelsLastHook,
    ChannelsLastSegDataPreProcessor,
    is_channels_last,
    to_channels_last,
)
from .compile import CompilableOptimWrapperConstructor

__all__ = [
    'ChannelsLastHook',
    'ChannelsLastSegDataPreProcessor',
    'CompilableOptimWrapperConstructor',
    'is_channels_last',
    'to_channels_last',
]
