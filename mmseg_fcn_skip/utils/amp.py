"""Automatic mixed precision that also works on CPU-only machines.

mmengine's ``AmpOptimWrapper`` refuses to run without an accelerator. On CPU
:func:`enable_amp` selects :class:`CPUAmpOptimWrapper`, which runs the forward
pass under bfloat16 autocast; bfloat16 has float32's exponent range, so no
loss scaling is needed.
"""

import logging
from contextlib import contextmanager
from typing import Iterator, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmseg.registry import OPTIM_WRAPPERS

AMP_WRAPPERS = ('AmpOptimWrapper', 'CPUAmpOptimWrapper')


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """An :class:`OptimWrapper` that runs the forward pass in CPU autocast.

    Args:
        dtype: Autocast data type; CPU autocast supports only
            ``'bfloat16'``.
        **kwargs: Passed on to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = torch.bfloat16, **kwargs) -> None:
        if dtype not in ('bfloat16', torch.bfloat16):
            raise ValueError(
                f'dtype must be bfloat16 for CPU autocast, got '
                f'{dtype!r}; remove `dtype` from optim_wrapper '
                "or set it to 'bfloat16'."
            )
        super().__init__(**kwargs)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """Enable gradient-accumulation handling and bfloat16 autocast."""
        with super().optim_context(model), autocast(device_type='cpu', dtype=torch.bfloat16):
            yield


def enable_amp(cfg: Config) -> None:
    """Switch ``cfg.optim_wrapper`` to mixed precision for this machine.

    With CUDA this selects mmengine's ``AmpOptimWrapper`` with dynamic loss
    scaling, as MMSegmentation's ``--amp`` does; without CUDA it selects
    :class:`CPUAmpOptimWrapper` (bfloat16). A config that already uses a
    mixed-precision wrapper is left as it is.

    Args:
        cfg: The config the runner is built from; updated in place.
    """
    wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type in AMP_WRAPPERS:
        print_log(
            f'AMP training is already enabled in your config ({wrapper_type}).',
            logger='current',
            level=logging.WARNING,
        )
        return
    if wrapper_type != 'OptimWrapper':
        raise ValueError(
            f"--amp needs optim_wrapper.type='OptimWrapper', got "
            f'{wrapper_type!r}; set the mixed-precision wrapper in the config '
            'instead of passing --amp.'
        )
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    else:
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
