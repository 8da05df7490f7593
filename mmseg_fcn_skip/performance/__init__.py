"""Speed options for training and inference: channels-last memory format and an
optimizer constructor that lets mmengine's ``compile = True`` work.

Not imported by ``import mmseg_fcn_skip``: configs that use these pieces list
``'mmseg_fcn_skip.performance'`` in ``custom_imports``.
"""
from .channels_last import (ChannelsLastHook, ChannelsLastSegDataPreProcessor,
                            is_channels_last, to_channels_last)
from .compile import CompilableOptimWrapperConstructor

__all__ = [
    'ChannelsLastHook', 'ChannelsLastSegDataPreProcessor',
    'CompilableOptimWrapperConstructor', 'is_channels_last', 'to_channels_last'
]
