"""Checkpoints saved by training load with torch's weights_only default on both stacks."""

import pickle
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner import checkpoint as mmengine_checkpoint

from mmseg_fcn_skip.checkpoints.safe_globals import (
    allow_mmengine_checkpoint_globals,
    mmengine_allows_its_globals,
    mmengine_checkpoint_globals,
)

NUMPY_CORE = 'numpy._core' if int(np.__version__.split('.')[0]) >= 2 else 'numpy.core'
#: onedl-mmengine 0.10.12's get_torch_safe_globals, by qualified name.
MAINTAINED_ALLOWLIST = [
    'builtins.slice',
    'builtins.getattr',
    f'{NUMPY_CORE}.multiarray._reconstruct',
    'numpy.ndarray',
    'numpy.dtype',
    f'{NUMPY_CORE}.multiarray.scalar',
    'numpy.dtypes.UInt32DType',
    'numpy.dtypes.Float64DType',
    'numpy.dtypes.Int64DType',
    'mmengine.logging.history_buffer.HistoryBuffer',
]


def qualified_name(item) -> str:
    return f'{item.__module__}.{item.__qualname__}'


@pytest.fixture
def training_checkpoint(tmp_path: Path) -> Path:
    """A checkpoint with what mmengine's runner saves besides the weights: the
    message hub's history buffers (numpy arrays) and numpy scalars in the meta."""
    hub = MessageHub(f'compat-{tmp_path.name}')
    for step, loss in enumerate([0.75, 0.5, 0.25], start=1):
        hub.update_scalar('train/loss', loss)
        hub.update_scalar('train/lr', np.float64(1e-3 / step))
    hub.update_info('iter', 3)
    path = tmp_path / 'iter_3.pth'
    torch.save(
        dict(
            message_hub=hub.state_dict(),
            meta=dict(seed=np.int64(7), iter=3),
            state_dict=dict(weight=torch.arange(4.0)),
        ),
        path,
    )
    return path


@pytest.fixture
def no_safe_globals() -> Iterator[None]:
    """torch's process-wide safe globals emptied for the test and restored after it
    (the plugin import has added mmengine's on the upstream stack; torch's
    ``safe_globals`` context manager removes its globals on exit, also ones that
    were allowed before)."""
    before = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    yield
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(before)


@pytest.fixture
def upstream_mmengine(monkeypatch: pytest.MonkeyPatch, no_safe_globals) -> None:
    """mmengine without its own allowlist (as 0.10.7), no safe globals yet."""
    monkeypatch.delattr(mmengine_checkpoint, 'get_torch_safe_globals', raising=False)


def check_loaded(loaded: dict) -> None:
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert np.array_equal(buffer.data[0], [0.75, 0.5, 0.25])
    assert loaded['meta']['seed'] == 7
    assert torch.equal(loaded['state_dict']['weight'], torch.arange(4.0))


def test_the_globals_are_the_maintained_mmengines():
    assert [qualified_name(item) for item in mmengine_checkpoint_globals()] == MAINTAINED_ALLOWLIST
    if mmengine_allows_its_globals():
        assert mmengine_checkpoint_globals() == mmengine_checkpoint.get_torch_safe_globals()


def test_the_globals_are_enough_for_a_training_checkpoint(training_checkpoint, no_safe_globals):
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        with torch.serialization.safe_globals(mmengine_checkpoint_globals()[:-1]):
            torch.load(training_checkpoint, weights_only=True)
    with torch.serialization.safe_globals(mmengine_checkpoint_globals()):
        check_loaded(torch.load(training_checkpoint, weights_only=True))


def test_upstream_mmengine_gets_them_once(training_checkpoint, upstream_mmengine):
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(training_checkpoint, weights_only=True)
    assert allow_mmengine_checkpoint_globals() == mmengine_checkpoint_globals()
    check_loaded(torch.load(training_checkpoint, weights_only=True))
    assert allow_mmengine_checkpoint_globals() == []
    assert len(torch.serialization.get_safe_globals()) == len(MAINTAINED_ALLOWLIST)


def test_nothing_is_added_where_mmengine_or_torch_need_nothing(
    upstream_mmengine, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_torch_safe_globals', mmengine_checkpoint_globals, raising=False
    )
    assert allow_mmengine_checkpoint_globals() == []
    monkeypatch.delattr(mmengine_checkpoint, 'get_torch_safe_globals')
    monkeypatch.setattr(torch, '__version__', '2.5.1')
    assert allow_mmengine_checkpoint_globals() == []
    assert torch.serialization.get_safe_globals() == []


def test_mmengine_loads_a_training_checkpoint_after_the_plugin_import(training_checkpoint, capsys):
    """Through the installed mmengine's own loader, as --resume and tools/test.py do;
    the maintained one would fall back to weights_only=False with a warning."""
    check_loaded(mmengine_checkpoint._load_checkpoint(str(training_checkpoint), 'cpu'))
    assert 'Falling back' not in capsys.readouterr().out
