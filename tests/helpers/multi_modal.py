"""The multi-modal data preprocessor the colour-HHA config names, for tests that run
before ``MultiModalDataPreProcessor`` (one mean and std per channel) is in the package.

:func:`ensure_multi_modal_preprocessor` registers a minimal stand-in under that name
only if the package has none, so the tests run the package's own once it has one.
"""

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

NAME = 'MultiModalDataPreProcessor'


class _PerChannelPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` normalising each of ``len(mean)`` channels."""

    def __init__(self, mean, std, **kwargs) -> None:
        super().__init__(mean=None, std=None, **kwargs)
        self._enable_normalize = True
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), False)


def ensure_multi_modal_preprocessor() -> None:
    """Register the stand-in as ``MultiModalDataPreProcessor`` if nothing is."""
    import mmseg_fcn_skip  # noqa: F401 (the package's modules registered first)

    if MODELS.get(NAME) is None:
        MODELS.register_module(name=NAME, module=_PerChannelPreProcessor)
