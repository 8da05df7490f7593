"""Compatibility with the upstream OpenMMLab releases (mmengine 0.10.7).

Since PyTorch 2.6 ``torch.load`` defaults to ``weights_only=True`` and refuses
every pickled global it does not know. mmengine saves objects of its own in
training checkpoints (the message hub's ``HistoryBuffer`` with numpy arrays),
so resuming or testing a checkpoint saved by training fails with
``Unsupported global: GLOBAL mmengine.logging.history_buffer.HistoryBuffer``.

The maintained mmengine (onedl-mmengine 0.10.12) loads checkpoints inside
``torch.serialization.safe_globals`` with the list of
``mmengine.runner.checkpoint.get_torch_safe_globals``. The upstream release
0.10.7 calls ``torch.load`` without ``weights_only``. For it,
:func:`allow_mmengine_checkpoint_globals` (run when the plugin is imported)
adds exactly the same globals with ``torch.serialization.add_safe_globals``,
and does nothing where mmengine allows them itself or torch is older than 2.6.
torch's ``safe_globals`` context manager removes its globals again on exit, also
ones that were allowed before it; code that wraps a load of these types in it
should call :func:`allow_mmengine_checkpoint_globals` again afterwards.
"""

from typing import Callable, List

import numpy as np
import torch
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.utils import digit_version

#: The first torch release whose ``torch.load`` defaults to ``weights_only=True``.
WEIGHTS_ONLY_DEFAULT_TORCH = '2.6.0'


def mmengine_checkpoint_globals() -> List[Callable]:
    """The globals the maintained mmengine allows when it loads a checkpoint.

    The same list as onedl-mmengine 0.10.12's ``get_torch_safe_globals``:
    ``slice`` and ``getattr``, numpy's array and scalar reconstruction
    (``numpy.core`` for numpy 1, ``numpy._core`` for numpy 2), ``ndarray``,
    ``dtype`` and the uint32/float64/int64 dtype classes, and mmengine's
    ``HistoryBuffer``.

    Returns:
        The globals, in that order.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    np_core = np._core if digit_version(np.__version__) >= digit_version('2.0.0') else np.core
    return [
        slice,
        getattr,
        np_core.multiarray._reconstruct,
        np.ndarray,
        np.dtype,
        np_core.multiarray.scalar,
        type(np.dtype(np.uint32)),
        type(np.dtype(np.float64)),
        type(np.dtype(np.int64)),
        HistoryBuffer,
    ]


def mmengine_allows_its_globals() -> bool:
    """Whether the installed mmengine loads checkpoints with its own allowlist.

    True for the maintained mmengine (it has ``get_torch_safe_globals``),
    False for upstream mmengine 0.10.7.
    """
    return hasattr(mmengine_checkpoint, 'get_torch_safe_globals')


def allow_mmengine_checkpoint_globals() -> List[Callable]:
    """Let ``torch.load`` read mmengine's training checkpoints where needed.

    Adds :func:`mmengine_checkpoint_globals` to torch's process-wide list of
    safe globals, only when torch loads with ``weights_only=True`` by default
    (>= 2.6) and the installed mmengine does not allow them itself. Globals
    already allowed are not added again, so calling it twice is harmless.

    Returns:
        The globals this call added (empty where nothing was needed).
    """
    if (
        digit_version(torch.__version__) < digit_version(WEIGHTS_ONLY_DEFAULT_TORCH)
        or mmengine_allows_its_globals()
    ):
        return []
    allowed = set(torch.serialization.get_safe_globals())
    missing = [item for item in mmengine_checkpoint_globals() if item not in allowed]
    if missing:
        torch.serialization.add_safe_globals(missing)
    return missing
